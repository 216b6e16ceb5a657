"""IdP connectors: one module per provider behind ``interface.Connector``.

``connector_for`` is the one list of them; nothing registers itself on import.
"""

from __future__ import annotations

from shadowmap.server.idp.interface import DEFAULT_LOOKBACK_DAYS, Connector, Provider


def connector_for(provider: Provider, lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> Connector:
    """The provider's connector; a sweep reads audit and sign-in logs this far back."""
    from shadowmap.server.idp.entra import EntraConnector
    from shadowmap.server.idp.google import GoogleConnector
    from shadowmap.server.idp.okta import OktaConnector

    connectors: dict[Provider, type[Connector]] = {
        Provider.GOOGLE: GoogleConnector,
        Provider.ENTRA: EntraConnector,
        Provider.OKTA: OktaConnector,
    }
    return connectors[provider](lookback_days)
