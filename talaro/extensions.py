"""Flask extensions, created unbound here and bound to the app in the factory."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

from talaro.schemas import ErrorEnvelopeSchema


class Base(DeclarativeBase):
    pass


class TalaroApi(Api):
    """flask-smorest's Api, documenting errors in Talaro's `{"error": {...}}` shape. The app's
    own handlers (error_handlers.py) answer every error, so smorest registers none."""

    ERROR_SCHEMA = ErrorEnvelopeSchema

    def _register_error_handlers(self) -> None:
        pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
api = TalaroApi()
