"""Sessions in the database, as Django keeps them, saved again in one statement at most."""

import datetime

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError
from django.db import DatabaseError, connections, router

from vss_program.outage import connection_failure

# An unchanged session is saved again (its expiry pushed back) only once its stored
# expiry is this far behind: a login then lasts SESSION_COOKIE_AGE after the last
# request, give or take this, and a page asked within it sends no statement for it.
REFRESH_AFTER = datetime.timedelta(minutes=1)


class SessionStore(db.SessionStore):
    """Django's database session store, updating a session without a transaction around it.

    SESSION_SAVE_EVERY_REQUEST saves the session on every request (a login
    lasts SESSION_COOKIE_AGE after the last one); one whose data did not change
    is saved only when its expiry moves later by REFRESH_AFTER or more (or a
    tenth of a short login's length), or moves earlier.  Django wraps
    each save in a transaction, so that the INSERT of a new session whose key is taken fails
    without spoiling an enclosing transaction: BEGIN, UPDATE, COMMIT.  The
    UPDATE of an existing session outside any transaction needs none, and saves
    two round trips on every page.  A new session, or a save inside a
    transaction, goes Django's way.

    While the database cannot be reached, a session is tried once per request:
    the session middleware reads it again on the way out (its expiry), even for
    the 503 that the first failure gave (vss_program/outage.py), which would wait
    for a second connect timeout.
    """

    _unreachable: BaseException | None = None
    # The expiry read with the session: when the last save pushed it back.
    _stored_expiry: datetime.datetime | None = None

    def _get_session_from_db(self):
        session = super()._get_session_from_db()
        self._stored_expiry = session.expire_date if session else None
        return session

    def load(self):
        if self._unreachable is not None:
            raise self._unreachable
        try:
            return super().load()
        except DatabaseError as error:
            if connection_failure(error) is not None:
                self._unreachable = error
            raise

    def save(self, must_create=False):
        if must_create or self.session_key is None:
            return super().save(must_create)
        if not self.modified and self._stored_expiry is not None:
            pushed_back = self.get_expiry_date() - self._stored_expiry
            # Never when the expiry would come sooner (SESSION_COOKIE_AGE lowered), nor
            # more than a tenth of a short login's length late.
            within = min(REFRESH_AFTER, datetime.timedelta(seconds=self.get_expiry_age() / 10))
            if datetime.timedelta(0) <= pushed_back < within:
                return
        session = self.create_model_instance(self._get_session())
        using = router.db_for_write(self.model, instance=session)
        if not connections[using].get_autocommit():
            return super().save(must_create)
        try:
            session.save(force_update=True, using=using)
        except DatabaseError as error:
            if connection_failure(error) is not None:
                raise  # the database is down: 503 (outage.py), not a lost session's 400
            raise UpdateError from error
