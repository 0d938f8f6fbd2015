"""The in-process message bus: routers hand it a command or a query, it runs the handler.

The two tables below are everything the service can do. Commands run in a write
transaction, queries in autocommit mode (one round trip); both on a pooled connection in a
database thread, so handlers stay plain synchronous functions of (cursor, message).
The bus keeps no per-request state, so one instance serves all concurrent requests.
"""

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import Depends, Request

from config_service.applications import commands as application_commands
from config_service.applications import queries as application_queries
from config_service.configurations import commands as configuration_commands
from config_service.configurations import queries as configuration_queries
from config_service.database import Database

Handler = Callable[[Any, Any], Any]

COMMAND_HANDLERS: Mapping[type, Handler] = {
    application_commands.CreateApplication: application_commands.create_application,
    application_commands.UpdateApplication: application_commands.update_application,
    configuration_commands.CreateConfiguration: configuration_commands.create_configuration,
    configuration_commands.UpdateConfiguration: configuration_commands.update_configuration,
}

QUERY_HANDLERS: Mapping[type, Handler] = {
    application_queries.GetApplication: application_queries.get_application,
    application_queries.ListApplications: application_queries.list_applications,
    configuration_queries.GetConfiguration: configuration_queries.get_configuration,
}


class MessageBus:
    def __init__(
        self,
        database: Database,
        *,
        commands: Mapping[type, Handler] = COMMAND_HANDLERS,
        queries: Mapping[type, Handler] = QUERY_HANDLERS,
        after_command: Callable[[], None] = lambda: None,
    ):
        self._database = database
        self._commands = commands
        self._queries = queries
        self._after_command = after_command

    async def dispatch(self, message: Any) -> Any:
        """Run the message's handler in the transaction its kind needs; return its result."""
        kind = type(message)
        if kind in self._commands:
            result = await self._database.run(self._commands[kind], message, write=True)
            self._after_command()  # committed: e.g. forget remembered ETags
            return result
        if kind in self._queries:
            return await self._database.run(self._queries[kind], message, write=False)
        raise LookupError(f"no handler is registered for {kind.__name__}")


async def get_bus(request: Request) -> MessageBus:
    """The app's bus. (Async on purpose: FastAPI runs a plain `def` dependency in a thread.)"""
    return request.app.state.bus


Bus = Annotated[MessageBus, Depends(get_bus)]
