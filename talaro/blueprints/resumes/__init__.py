from talaro.blueprints.resumes.views import blp

__all__ = ["blp"]
