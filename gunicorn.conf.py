"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py "app:create_app()"`."""
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
# Each worker loads the model once (after fork); preloading would share nothing useful with torch.
preload_app = False
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The app's own warnings go to the error log too (gunicorn otherwise configures only its loggers):
# e.g. Redis unreachable, so the throttle counts in the process and jobs run in the process.
logconfig_dict = {"root": {"level": "WARNING", "handlers": ["error_console"]}}
