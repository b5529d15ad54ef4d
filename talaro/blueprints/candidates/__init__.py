from talaro.blueprints.candidates.views import blp

__all__ = ["blp"]
