"""Sessions in the database, as Django keeps them, saved again in one statement."""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError
from django.db import DatabaseError, connections, router


class SessionStore(db.SessionStore):
    """Django's database session store, updating a session without a transaction around it.

    SESSION_SAVE_EVERY_REQUEST saves the session on every request (a login
    lasts SESSION_COOKIE_AGE after the last one).  Django wraps each save in a
    transaction, so that the INSERT of a new session whose key is taken fails
    without spoiling an enclosing transaction: BEGIN, UPDATE, COMMIT.  The
    UPDATE of an existing session outside any transaction needs none, and saves
    two round trips on every page.  A new session, or a save inside a
    transaction, goes Django's way.
    """

    def save(self, must_create=False):
        if must_create or self.session_key is None:
            return super().save(must_create)
        session = self.create_model_instance(self._get_session())
        using = router.db_for_write(self.model, instance=session)
        if not connections[using].get_autocommit():
            return super().save(must_create)
        try:
            session.save(force_update=True, using=using)
        except DatabaseError as error:
            raise UpdateError from error
