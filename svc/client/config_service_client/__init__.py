"""Client of the Configuration Service: follow a configuration at run time, provision from CI."""

from config_service_client.client import ConfigClient
from config_service_client.follower import Follower
from config_service_client.service import FatalError, ServiceError

__all__ = ["ConfigClient", "FatalError", "Follower", "ServiceError"]
