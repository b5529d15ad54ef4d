from talaro.blueprints.pages.views import bp

__all__ = ["bp"]
