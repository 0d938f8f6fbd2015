"""Client of the Configuration Service: follow a configuration or a whole application at run
time, provision from CI."""

from config_service_client.application import ApplicationFollower
from config_service_client.client import ConfigClient
from config_service_client.follower import Follower
from config_service_client.service import FatalError, ServiceError

__all__ = ["ApplicationFollower", "ConfigClient", "FatalError", "Follower", "ServiceError"]
