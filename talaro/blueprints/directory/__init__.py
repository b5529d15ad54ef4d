from talaro.blueprints.directory.views import blp

__all__ = ["blp"]
