"""Calls to the action server over kept-alive connections.

Rasa 3.6's `EndpointConfig.request` opens a new aiohttp session, and with it a
new TCP connection, for every custom action a turn runs, and closes both
again; the action server (Sanic) accepts and tears down a connection each
time. `KeptAliveEndpoint` is the same endpoint with one session per event
loop whose connections are kept open between calls (docs/performance.md).

A kept connection can go stale: the action server restarted, or closed it as
idle. Two things keep that from failing a turn:

- the client drops idle connections after `KEEPALIVE_SECONDS`, before the
  action server closes them on its side (Sanic's KEEP_ALIVE_TIMEOUT: 5 s by
  default, 75 s as `bot run` and deploy/Dockerfile.actions start it);
- a request that fails on a *reused* connection before any answer arrived
  (the server closed it as the request went out) is sent once more on a new
  connection. A request on a new connection is never repeated, so an action
  that the server may have run is not run twice because of this class.

Everything else is Rasa's: URL, token parameter, headers, timeout, errors
(`ClientResponseError` for status >= 400, connection errors as aiohttp's).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import weakref
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiohttp.client_exceptions import ContentTypeError
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.utils.endpoints import ClientResponseError, EndpointConfig, concat_url

logger = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 2.0  # < Sanic's KEEP_ALIVE_TIMEOUT (5 s or more): the client lets go first
# The server closed the connection before answering, or reset it.
STALE_ERRORS = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)


async def _mark_reused(
    session: aiohttp.ClientSession, context: SimpleNamespace, params: object
) -> None:
    if context.trace_request_ctx is not None:
        context.trace_request_ctx.reused = True


class KeptAliveEndpoint(EndpointConfig):
    """An `EndpointConfig` whose requests share a session and its connections."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sessions: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, aiohttp.ClientSession
        ] = weakref.WeakKeyDictionary()

    @classmethod
    def of(cls, endpoint: EndpointConfig) -> KeptAliveEndpoint:
        """The same endpoint (URL, token, headers, ...) with kept-alive connections."""
        kept = cls(
            url=endpoint.url,
            params=endpoint.params,
            headers=endpoint.headers,
            basic_auth=endpoint.basic_auth,
            token=endpoint.token,
            token_name=endpoint.token_name,
            cafile=endpoint.cafile,
            **endpoint.kwargs,
        )
        kept.type = endpoint.type
        return kept

    def _shared_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            tracing = aiohttp.TraceConfig()
            tracing.on_connection_reuseconn.append(_mark_reused)
            auth = (
                aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
                if self.basic_auth else None
            )
            session = aiohttp.ClientSession(  # as Rasa's session(), plus the connector
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
                trace_configs=[tracing],
            )
            self._sessions[loop] = session
        return session

    async def request(
        self,
        method: str = "post",
        subpath: str | None = None,
        content_type: str | None = "application/json",
        compress: bool = False,
        **kwargs: Any,
    ) -> Any | None:
        """Rasa's `EndpointConfig.request` on the shared session (see the module)."""
        headers = {"Content-Type": content_type} if content_type else {}
        headers.update(kwargs.pop("headers", None) or {})
        headers.update(self.headers)
        url = concat_url(self.url, subpath)
        params = self.combine_parameters(kwargs)
        sslcontext = ssl.create_default_context(cafile=self.cafile) if self.cafile else None
        session = self._shared_session()

        async def send(trace: SimpleNamespace) -> Any | None:
            async with session.request(
                method, url, headers=headers, params=params, compress=compress,
                ssl=sslcontext, trace_request_ctx=trace, **kwargs,
            ) as response:
                if response.status >= 400:
                    raise ClientResponseError(
                        response.status, response.reason, await response.content.read()
                    )
                try:
                    return await response.json()
                except ContentTypeError:
                    return None

        first = SimpleNamespace(reused=False)
        try:
            return await send(first)
        except STALE_ERRORS as error:
            if not first.reused:
                raise
            logger.debug("action server closed a kept connection (%s); sending again", error)
        return await send(SimpleNamespace(reused=False))

    async def close(self) -> None:
        """Close this loop's session (its kept connections)."""
        loop = asyncio.get_running_loop()
        session = self._sessions.pop(loop, None)
        if session is not None:
            await session.close()
