"""The HTTP shell of the server: the app factory and its lifespan, the routes, the prediction
fast lane, the middleware, error mapping, dependencies, request and response schemas, the
OpenAPI document and the refresh route's rate limit. It runs models only through
:mod:`emotion_clf.serving.runtime`."""

from __future__ import annotations

from emotion_clf.serving.http.app import ServingApp, app_from_env, create_app

__all__ = ["ServingApp", "app_from_env", "create_app"]
