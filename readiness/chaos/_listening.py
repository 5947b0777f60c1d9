"""What every local listener of the harness reports: its bound port and base URL."""

from __future__ import annotations


class Listening:
    """Mixin for servers that bind `_host` and record `_bound_port` in `start()`."""

    _host: str
    _bound_port: int | None

    @property
    def port(self) -> int:
        """The bound port (the real one when constructed with port 0)."""
        if self._bound_port is None:
            raise RuntimeError(f"{type(self).__name__}.port read before start()")
        return self._bound_port

    @property
    def url(self) -> str:
        """`http://HOST:PORT`, without a trailing slash: the base URL to hand a client."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"
