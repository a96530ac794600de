"""The blocking client's resources: each method is its AsyncIonQ twin, run on the loop thread."""

from __future__ import annotations

from .._models.answers import JobPage
from .._models.jobs import Job
from .._resources import account as _account
from .._resources import backends as _backends
from .._resources import jobs as _jobs
from .._resources import listing as _listing
from .._resources import sessions as _sessions
from .bridge import Blocking, BlockingContext, BlockingIterator, blocking, iterating
from .loop import LoopThread

__all__ = ["Backends", "JobListing", "Jobs", "Schemas", "Sessions"]


class JobListing(BlockingIterator[Job]):
    """The jobs of a listing: a `for` walks every page; `page()` reads one JobPage."""

    def __init__(self, listing: _listing.JobListing, loop: LoopThread) -> None:
        super().__init__(listing, loop)
        self._listing = listing

    def page(self) -> JobPage:
        """The one page at the listing's cursor, with the cursor of the page after it."""
        return self._loop.run(self._listing.page())


class Jobs(Blocking[_jobs.Jobs]):
    """Job operations of one blocking IonQ client (`client.jobs`)."""

    create = blocking(_jobs.Jobs.create)
    clone = blocking(_jobs.Jobs.clone)
    move = blocking(_jobs.Jobs.move)
    get = blocking(_jobs.Jobs.get)
    cancel = blocking(_jobs.Jobs.cancel)
    cancel_many = blocking(_jobs.Jobs.cancel_many)
    delete = blocking(_jobs.Jobs.delete)
    delete_many = blocking(_jobs.Jobs.delete_many)
    estimate = blocking(_jobs.Jobs.estimate)
    results = blocking(_jobs.Jobs.results)
    artifact = blocking(_jobs.Jobs.artifact)
    cost = blocking(_jobs.Jobs.cost)
    probabilities = blocking(_jobs.Jobs.probabilities)
    wait = blocking(_jobs.Jobs.wait)
    wait_many = iterating(_jobs.Jobs.wait_many, BlockingIterator)
    estimate_rerun = blocking(_jobs.Jobs.estimate_rerun)
    rerun = iterating(_jobs.Jobs.rerun, BlockingIterator)
    rerun_all = blocking(_jobs.Jobs.rerun_all)
    list = iterating(_jobs.Jobs.list, JobListing)


class Sessions(Blocking[_sessions.Sessions]):
    """Session operations of one blocking IonQ client (`client.sessions`)."""

    create = blocking(_sessions.Sessions.create)
    get = blocking(_sessions.Sessions.get)
    end = blocking(_sessions.Sessions.end)
    jobs = iterating(_sessions.Sessions.jobs, BlockingIterator)
    open = iterating(_sessions.Sessions.open, BlockingContext)
    list = blocking(_sessions.Sessions.list)


class Backends(Blocking[_backends.Backends]):
    """Backend operations of one blocking IonQ client (`client.backends`)."""

    get = blocking(_backends.Backends.get)
    characterizations = iterating(_backends.Backends.characterizations, BlockingIterator)
    characterization = blocking(_backends.Backends.characterization)
    list = blocking(_backends.Backends.list)


class Schemas(Blocking[_account.Schemas]):
    """The format schemas of one blocking IonQ client (`client.schemas`)."""

    format = blocking(_account.Schemas.format)
