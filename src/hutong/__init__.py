"""互通 hutong: share public data safely between departments, districts and regions."""

__version__ = "0.1.0"
