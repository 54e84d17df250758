from qbsync.cli import app

app()
