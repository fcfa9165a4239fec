"""One caller of TokenRefresher.fresh in its own process, for the two-process refresh race.

Usage: python credentials_race.py CONNECTION_ID START_AT DELAY_SECONDS
The environment names the store (SHELFOPS_HOME, SHELFOPS_ENCRYPTION_KEYS) and the Square app
(SHELFOPS_SQUARE_*). It waits until the wall clock reads START_AT, refreshes through a refresh
function slowed by DELAY_SECONDS, and prints the SHA-256 of the access token it ends up with.
"""

import hashlib
import sys
import time

from shelfops_pipeline.credentials.models import TokenSet
from shelfops_pipeline.credentials.refresh import TokenRefresher
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.sources.square.oauth import REFRESH_THRESHOLD, SquareApp, SquareOAuth


def main(connection_id: str, start_at: float, delay: float) -> str:
    store = CredentialStore()
    with SquareOAuth(SquareApp.configured()) as square:

        def slow_refresh(refresh_token: Secret) -> TokenSet:
            time.sleep(delay)
            return square.refresh(refresh_token)

        refresher = TokenRefresher(store, slow_refresh, REFRESH_THRESHOLD)
        time.sleep(max(0.0, start_at - time.time()))
        connection = refresher.fresh(connection_id)
    return hashlib.sha256(connection.access_token.reveal().encode()).hexdigest()


if __name__ == "__main__":
    sys.stdout.write(main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3])) + "\n")
