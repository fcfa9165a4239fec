"""What can go wrong with credentials, each message naming the problem and the fix.

    CredentialError
    ├── CredentialKeyError       no key, a malformed key, or a secret the keys cannot decrypt
    ├── CredentialStoreError     the store file cannot be opened or written
    ├── ConnectionNotFound
    ├── ConnectionNeedsReauth    the provider no longer honours the connection's tokens
    ├── InvalidOAuthState        a forged, replayed, expired or mismatched OAuth `state`
    ├── InsecureURL              a provider URL that is neither https nor loopback
    ├── AuthorizationTimedOut    no OAuth callback arrived in time
    └── OAuthError               the provider refused an OAuth call
        ├── AuthorizationDenied  the seller declined on the authorize page
        ├── RefreshRejected      the refresh token is revoked, expired or already used
        └── OAuthUnavailable     transport errors or 5xx, still failing after retries

No message ever carries a token, a secret or a key.
"""


class CredentialError(Exception):
    """Base of every credentials error; the message is meant for an operator."""


class CredentialKeyError(CredentialError):
    """The encryption keys are missing or malformed, or cannot decrypt a stored secret."""


def undecryptable_signature_key(subscription_id: str) -> CredentialKeyError:
    return CredentialKeyError(
        f"the signature key of webhook subscription {subscription_id} cannot be decrypted with "
        "SHELFOPS_ENCRYPTION_KEYS; put the key it was stored with back in the list"
    )


class CredentialStoreError(CredentialError):
    """The credential store file cannot be opened or written."""


class ConnectionNotFound(CredentialError):
    """No connection has the asked-for id."""


class ConnectionNeedsReauth(CredentialError):
    """The connection must be authorized again with `shelfops connect`."""


class InvalidOAuthState(CredentialError):
    """An OAuth callback's `state` was not issued for this flow, or was used or expired."""


class InsecureURL(CredentialError):
    """Secrets would travel to a URL that is neither https nor loopback."""


class AuthorizationTimedOut(CredentialError):
    """No OAuth callback reached the loopback server before the deadline."""


class OAuthError(CredentialError):
    """The provider's OAuth endpoint refused a request."""


class AuthorizationDenied(OAuthError):
    """The seller declined to authorize the app."""


class RefreshRejected(OAuthError):
    """The provider refused the refresh token: it is revoked, expired or already used."""


class OAuthUnavailable(OAuthError):
    """The provider's OAuth endpoint could not be reached or kept failing with 5xx."""
