"""A stand-in for osquery core's extension manager, built from the `osquery` package's
own generated Thrift code: answers queries from canned tables and records registrations.
Run: python fake_osquery.py SOCKET TABLES.json REGISTRATIONS.json"""

from __future__ import annotations

import json
import re
import sys
import threading
import time

from osquery.extensions import ExtensionManager
from osquery.extensions.ttypes import ExtensionResponse, ExtensionStatus
from thrift.protocol import TBinaryProtocol
from thrift.server import TServer
from thrift.transport import TSocket, TTransport


class Manager(ExtensionManager.Iface):
    def __init__(self, tables: dict, registrations: str) -> None:
        self.tables = tables
        self.registrations = registrations

    def ping(self):
        return ExtensionStatus(code=0, message="OK")

    def extensions(self):
        return {}

    def options(self):
        return {}

    def registerExtension(self, info, registry):  # noqa: N802 - Thrift's name
        with open(self.registrations, "w") as handle:
            json.dump({"name": info.name, "registry": registry, "uuid": 7}, handle)
        return ExtensionStatus(code=0, message="OK", uuid=7)

    def deregisterExtension(self, uuid):  # noqa: N802
        return ExtensionStatus(code=0, message="OK")

    def query(self, sql):
        table = next((t for t in self.tables if re.search(rf"\bFROM {t}\b", sql)), None)
        if table is None:
            return ExtensionResponse(ExtensionStatus(code=1, message="no such table"), [])
        return ExtensionResponse(ExtensionStatus(code=0, message="OK"), self.tables[table])

    def getQueryColumns(self, sql):  # noqa: N802
        return ExtensionResponse(ExtensionStatus(code=0, message="OK"), [])


def main() -> None:
    socket_path, tables, registrations = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(tables) as handle:
        manager = Manager(json.load(handle), registrations)
    server = TServer.TThreadedServer(
        ExtensionManager.Processor(manager),
        TSocket.TServerSocket(unix_socket=socket_path),
        TTransport.TBufferedTransportFactory(),
        TBinaryProtocol.TBinaryProtocolFactory(),
        daemon=True,
    )
    threading.Thread(target=server.serve, daemon=True).start()
    print("ready", flush=True)
    time.sleep(120)  # stops by itself


if __name__ == "__main__":
    main()
