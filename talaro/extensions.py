"""Flask extensions, created unbound here and bound to the app in the factory."""

from typing import Any

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase
from werkzeug.exceptions import HTTPException

from talaro.schemas import ErrorEnvelopeSchema


class Base(DeclarativeBase):
    pass


class TalaroApi(Api):
    """flask-smorest's Api, answering errors in Talaro's `{"error": {...}}` shape."""

    ERROR_SCHEMA = ErrorEnvelopeSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        from talaro.errors import handle_http_exception

        return handle_http_exception(error)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
api = TalaroApi()
