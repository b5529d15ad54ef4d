from talaro.blueprints.auth.views import blp

__all__ = ["blp"]
