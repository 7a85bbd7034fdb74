"""The data gateway's HTTP routes (/gateway/v1)."""

from hutong.gateway.api.routes import router

__all__ = ["router"]
