"""What every view receives: the services, the logged-in staff member, the task runner, the bus
and the launcher of exports in a child process, all built once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QSettings

from billing_desk.domain.changes import Changes
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.views.change_bus import ChangeBus
from billing_desk.views.export_process import ProcessExporter
from billing_desk.views.tasks import CollectionOp, QueryOp, TaskRunner

if TYPE_CHECKING:  # the App type only; views reach services through it at run time
    from billing_desk.bootstrap import App

T = TypeVar("T")


@dataclass
class ViewContext:
    app: App
    actor: Actor
    runner: TaskRunner
    bus: ChangeBus
    settings: QSettings
    exporter: ProcessExporter  # credit-history exports, each in a child process on this desk's database

    def can(self, permission: Permission) -> bool:
        return self.actor.can(permission)

    def query(self, op: Callable[[], T], success: Callable[[T], None], *, gateway: bool = False,
              long: bool = False) -> QueryOp[T]:
        return QueryOp(self.runner, op, success, gateway=gateway, long=long)

    def write(self, op: Callable[[], T], changes: Callable[[T], Changes],
              success: Callable[[T], None] | None = None, *, gateway: bool = False,
              initiator: object = None) -> CollectionOp[T]:
        return CollectionOp(self.runner, self.bus, op, changes, success, initiator=initiator, gateway=gateway)
