"""The Flask tutorial application this project began as (../shared/seed.md),
reduced to what the benchmark compares: the home page, registration, login,
the login-required secret page and download, logout. Its weaknesses are kept
on purpose (it is the baseline): the email-existence message, GET logout,
no CSRF tokens, cookie sessions that cannot be revoked.

Run by `cargo xtask bench --flask xtask/flask-original` under gunicorn;
configured by SECRET_KEY and DATABASE_URI in the environment.
"""
import os

from flask import Flask, flash, redirect, render_template, request, send_from_directory, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_sqlalchemy import SQLAlchemy
from werkzeug.security import check_password_hash, generate_password_hash

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URI", "sqlite:///users.db")
db = SQLAlchemy(app)

login_manager = LoginManager()
login_manager.init_app(app)


class User(UserMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(100), unique=True)
    password = db.Column(db.String(100))
    name = db.Column(db.String(1000))


with app.app_context():
    db.create_all()


@login_manager.user_loader
def load_user(user_id):
    return db.get_or_404(User, user_id)


@app.route("/")
def home():
    return render_template("index.html", logged_in=current_user.is_authenticated)


@app.route("/register", methods=["GET", "POST"])
def register():
    if request.method == "POST":
        email = request.form.get("email")
        if db.session.execute(db.select(User).where(User.email == email)).scalar():
            flash("Email already registered. Login instead")
            return redirect(url_for("login"))
        user = User(
            email=email,
            name=request.form.get("name"),
            password=generate_password_hash(request.form.get("password"), method="pbkdf2", salt_length=8),
        )
        db.session.add(user)
        db.session.commit()
        login_user(user)
        return redirect(url_for("secrets"))
    return render_template("register.html", logged_in=current_user.is_authenticated)


@app.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        email = request.form.get("email")
        user = db.session.execute(db.select(User).where(User.email == email)).scalar()
        if not user:
            flash("That email does not exist. Please try again")
            return redirect(url_for("login"))
        if check_password_hash(user.password, request.form.get("password")):
            login_user(user)
            return redirect(url_for("secrets"))
        flash("Incorrect password. Please try again")
        return redirect(url_for("login"))
    return render_template("login.html", logged_in=current_user.is_authenticated)


@app.route("/secrets")
@login_required
def secrets():
    return render_template("secrets.html", name=current_user.name, logged_in=True)


@app.route("/logout")
def logout():
    logout_user()
    return redirect(url_for("home"))


@app.route("/download")
@login_required
def download():
    return send_from_directory("static", path="files/cheat_sheet.pdf")
