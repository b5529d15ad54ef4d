from talaro.blueprints.interviews.views import blp

__all__ = ["blp"]
