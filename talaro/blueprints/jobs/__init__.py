from talaro.blueprints.jobs.views import blp

__all__ = ["blp"]
