"""Outbound URLs: the one place that decides whether a URL may be fetched, and fetches it.

A URL from outside is a request to reach into whatever network the fetching process sits in.
:func:`decide` judges it against a :class:`UrlPolicy` (pure but for name resolution);
:func:`fetch_url` / :func:`fetch_url_async` fetch it within the policy's bounds, connecting only
to addresses that were judged. Every refusal and failure is one :class:`UrlFetchError` whose
public message never tells what is behind an address.

Entry points build the policy from their settings: the server a strict one (``public`` or
``allow-list``), the CLI on a user's own machine a permissive one (``any``) with the same
bounded fetch.
"""

from emotion_clf.urls.errors import PUBLIC_MESSAGE, UrlFetchError
from emotion_clf.urls.fetch import Fetched, fetch_url, fetch_url_async
from emotion_clf.urls.policy import (
    MODES,
    YOUTUBE_HOSTS,
    Mode,
    Resolver,
    UrlDecision,
    UrlPolicy,
    decide,
    system_resolver,
)

__all__ = [
    "MODES",
    "PUBLIC_MESSAGE",
    "YOUTUBE_HOSTS",
    "Fetched",
    "Mode",
    "Resolver",
    "UrlDecision",
    "UrlFetchError",
    "UrlPolicy",
    "decide",
    "fetch_url",
    "fetch_url_async",
    "system_resolver",
]
