"""IdP connectors: one module per provider behind ``interface.Connector``.

``connector_for`` is the one list of them; nothing registers itself on import.
"""

from __future__ import annotations

from shadowmap.server.idp.interface import Connector, Provider


def connector_for(provider: Provider) -> Connector:
    from shadowmap.server.idp.entra import EntraConnector
    from shadowmap.server.idp.google import GoogleConnector
    from shadowmap.server.idp.okta import OktaConnector

    connectors: dict[Provider, type[Connector]] = {
        Provider.GOOGLE: GoogleConnector,
        Provider.ENTRA: EntraConnector,
        Provider.OKTA: OktaConnector,
    }
    return connectors[provider]()
