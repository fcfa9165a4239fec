"""Operator alerts: failed runs and opened circuits, posted as a short Slack-compatible JSON body to
`SHELFOPS_ALERT_WEBHOOK_URL`, or logged when it is unset."""
