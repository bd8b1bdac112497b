import sqlalchemy as sa
from cryptography.fernet import Fernet

from ezscale.services.core import crypto
from ezscale.settings import get_settings


def test_round_trip_and_ciphertext_differs_from_plaintext(platform):
    token = crypto.encrypt("kasm-password-123")
    assert "kasm-password-123" not in token
    assert crypto.decrypt(token) == "kasm-password-123"


def test_rotation_old_key_still_decrypts(platform, monkeypatch):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("EZSCALE_ENCRYPTION_KEYS", old)
    get_settings.cache_clear()
    token = crypto.encrypt("secret")
    monkeypatch.setenv("EZSCALE_ENCRYPTION_KEYS", f"{new},{old}")
    get_settings.cache_clear()
    assert crypto.decrypt(token) == "secret"


def test_encrypted_column_stores_ciphertext(platform):
    metadata = sa.MetaData()
    table = sa.Table("t", metadata, sa.Column("v", crypto.EncryptedString()))
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert().values(v="api-secret"))
        raw = conn.execute(sa.text("SELECT v FROM t")).scalar()
        assert raw != "api-secret" and crypto.decrypt(raw) == "api-secret"
        assert conn.execute(sa.select(table.c.v)).scalar() == "api-secret"
