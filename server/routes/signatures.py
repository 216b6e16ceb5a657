"""``GET /api/v1/signatures``: the signed signature pack, as published, for enrolled devices.

Served from the file named by SHADOWMAP_SIGNATURE_PACK (made by `collector publish-signatures`),
so the collector keeps no pack state and every replica given the same file answers alike.
The agent checks the signature itself; this route only hands the bytes over.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response

from shadowmap.server.deps import CurrentDevice
from shadowmap.server.errors import RequestError

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["signatures"])

# Where the operator names the published pack (docs/collector-api.md, "Signature packs").
SIGNATURE_PACK_ENV = "SHADOWMAP_SIGNATURE_PACK"


class NoSignaturePack(RequestError):
    status_code = 404
    code = "no_signature_pack"
    default_detail = "this collector publishes no signature pack; agents keep their built-in one"


def configure(app: FastAPI, environ: Mapping[str, str] | None = None) -> None:
    """Remember which file holds the published pack (read per request: a new one is live)."""
    value = (os.environ if environ is None else environ).get(SIGNATURE_PACK_ENV, "")
    app.state.signature_pack = Path(value) if value else None
    if value:
        logger.info("serving the signature pack in %s", value)


@router.get("/signatures", responses={304: {"description": "unchanged"}})
def get_signatures(request: Request, _device: CurrentDevice) -> Response:
    path: Path | None = request.app.state.signature_pack
    if path is None:
        raise NoSignaturePack()
    try:
        body = path.read_bytes()
    except OSError:
        logger.warning("the signature pack %s cannot be read", path)
        raise NoSignaturePack(
            "the published signature pack cannot be read; ask the operator"
        ) from None
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type="application/json", headers={"ETag": etag})
