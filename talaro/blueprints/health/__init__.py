from talaro.blueprints.health.views import blp

__all__ = ["blp"]
