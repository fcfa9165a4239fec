"""The Dagster code location. Assets, checks, schedules and sensors join as their issues land."""

import dagster as dg

defs = dg.Definitions()
