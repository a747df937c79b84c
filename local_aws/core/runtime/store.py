"""The one kind of state a service keeps: plain data per account and region, saved the same way for all.

`AccountRegionStore(name, State)` is a service's state as moto's BackendDict and LocalStack's
AccountRegionBundle hold theirs: `store.of(account_id, region)` is that account's State in that region,
made on first use. A State is plain data (dataclasses, dicts, lists, datetimes: no threads, locks,
events, processes or closures), so a store pickles as it is: the runtime saves every store alike, loads
it back at start and empties it at a reset. What runs (a job's processes, a pipeline's executor, a
query's thread) lives beside the store in the service's runner, and finds its record by key.

Change a State under `store.lock` and call `store.changed()` after: the saver (local_aws.core.runtime
.persistence) writes changed stores in the background, twice a second, never on the request path.
`Store` is what the saver needs of any store; moto's state (local_aws.core.moto.state) is the one store
with a layout of its own.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

S = TypeVar("S")


class Store:
    """What the saver needs of a store: its name, whether it changed, a snapshot of it and the way back."""

    name: str
    dirty: bool = False
    # Whether a save may write the files beside the snapshot anew (the Feature Store's journal), so that the room
    # held for the next save counts them; False: each is written once (S3's object bodies).
    files_rewritten: bool = True

    def changed(self) -> None:
        """Mark the state changed; the saving thread writes it soon, off the request path."""
        self.dirty = True

    def dump(self) -> Any:
        """A picklable snapshot, taken on the saving thread."""
        raise NotImplementedError

    def load(self, snapshot: Any) -> None:
        """Put a snapshot back, at start, before any request is answered."""
        raise NotImplementedError

    def saved(self) -> None:
        """The snapshot last dumped is safely on disk."""

    def reset(self) -> None:
        """Forget everything (a reset)."""
        raise NotImplementedError


class AccountRegionStore(Store, Generic[S]):
    """A service's state per account and region: plain data, saved whole."""

    def __init__(self, name: str, state: Callable[[], S], layout: int = 1):
        """name: the saved state's file name; state: makes an empty State; layout: bumped when the State's
        shape changes incompatibly (a snapshot of another layout does not load, and is set aside)."""
        self.name = name
        self.layout = layout
        self._make = state
        self._states: dict[tuple[str, str], S] = {}
        self.lock = threading.RLock()  # held while a State changes, and while the store is snapshot
        self.after_load: list[Callable[[], None]] = []  # e.g. a running job's record marked Failed

    def of(self, account_id: str, region: str) -> S:
        """The State of one account in one region, made empty on first use."""
        key = (account_id, region)
        state = self._states.get(key)
        if state is None:
            with self.lock:
                state = self._states.setdefault(key, self._make())
        return state

    def states(self) -> Iterator[tuple[tuple[str, str], S]]:
        """((account, region), State) of every account and region that has one (a copy of the list)."""
        with self.lock:
            return iter(list(self._states.items()))

    def dump(self) -> bytes:
        with self.lock:  # a consistent snapshot: no State changes while it is pickled
            return pickle.dumps({"layout": self.layout, "states": self._states}, protocol=pickle.HIGHEST_PROTOCOL)

    def load(self, snapshot: bytes) -> None:
        loaded = pickle.loads(snapshot)
        if loaded.get("layout") != self.layout:
            raise ValueError(f"{self.name}: saved with layout {loaded.get('layout')}, this version reads {self.layout}")
        with self.lock:
            self._states = loaded["states"]
        for hook in self.after_load:
            hook()

    def reset(self) -> None:
        with self.lock:
            self._states = {}
            self.dirty = False


class FunctionStore(Store):
    """A store given as functions: how to snapshot it, put a snapshot back and forget it."""

    def __init__(
        self,
        name: str,
        dump: Callable[[], Any],
        load: Callable[[Any], None],
        saved: Callable[[], None] | None = None,
        forget: Callable[[], None] | None = None,
    ):
        self.name = name
        self._dump, self._load, self._saved, self._forget = dump, load, saved, forget

    def dump(self) -> Any:
        return self._dump()

    def load(self, snapshot: Any) -> None:
        self._load(snapshot)

    def saved(self) -> None:
        if self._saved is not None:
            self._saved()

    def reset(self) -> None:
        if self._forget is not None:
            self._forget()
        self.dirty = False
