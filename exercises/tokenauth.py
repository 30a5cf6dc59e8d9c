"""API tokens, looked up once per process every few seconds rather than on every request.

DRF's `TokenAuthentication` reads the token and its user from the database on every
request: during an exam, a student's client sends a few requests per answer, and the
lookup was a tenth of an API request's CPU. Here a token found (for an active user) is
remembered by the process for `API_TOKEN_CACHE_SECONDS` (default 30; 0 turns the
memory off). What that costs, and why it is acceptable:

- A token deleted, or a user deactivated, in the admin or by `manage.py` stops working
  at once in the process that did it (the signals below forget it) and within
  `API_TOKEN_CACHE_SECONDS` in every other web process. Session sign-in is unaffected.
- An unknown key is never remembered: a new token works at once, and guessing keys
  costs a query each as before.
- Each request gets its own copy of the user, so nothing one request sets on it (a
  permission cache, say) is seen by another.
"""

from __future__ import annotations

import copy
import threading
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

# Beyond this many remembered tokens the memory starts again: a process never holds
# more than a few megabytes of users.
MAX_REMEMBERED = 20_000

_remembered: dict[str, tuple[float, object, Token]] = {}
_lock = threading.Lock()


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        seconds = settings.API_TOKEN_CACHE_SECONDS
        if seconds <= 0:
            return super().authenticate_credentials(key)
        now = time.monotonic()
        found = _remembered.get(key)
        if found is not None and found[0] > now:
            _, user, token = found
            return copy.copy(user), token
        user, token = super().authenticate_credentials(key)
        with _lock:
            if len(_remembered) >= MAX_REMEMBERED:
                _remembered.clear()
            _remembered[key] = (now + seconds, copy.copy(user), token)
        return user, token


def forget(user_id=None, key=None) -> None:
    """Forget a token (by key) or every token of a user, in this process."""
    with _lock:
        if key is not None:
            _remembered.pop(key, None)
        if user_id is not None:
            for k in [k for k, (_, user, _) in _remembered.items() if user.pk == user_id]:
                del _remembered[k]


@receiver(post_delete, sender=Token)
def _token_deleted(sender, instance, **kwargs):
    forget(key=instance.key)


@receiver(post_save, sender=Token)
def _token_saved(sender, instance, **kwargs):
    forget(key=instance.key)


@receiver(post_save, sender=get_user_model())
@receiver(post_delete, sender=get_user_model())
def _user_changed(sender, instance, **kwargs):
    if _remembered:
        forget(user_id=instance.pk)
