"""Load the demo Shanghai node into a database: organizations, users, apps, catalog, data."""

from hutong.demo.load.credentials import CREDENTIALS_FILE, DemoCredentials, gateway_curl
from hutong.demo.load.loader import load_demo

__all__ = ["CREDENTIALS_FILE", "DemoCredentials", "gateway_curl", "load_demo"]
