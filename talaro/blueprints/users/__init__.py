from talaro.blueprints.users.views import blp

__all__ = ["blp"]
