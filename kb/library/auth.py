"""Who may change the library. Reading is open; adding, replacing, deleting and restoring need a
signed-in editor, re-embedding and managing users an admin, once users are configured.

Users live in `users.toml` in the data folder (config `users_file`), written by `kb user`:

    [users.zhang]
    role = "editor"                       # reader | editor | admin
    password = "$argon2id$v=19$..."       # argon2 (argon2-cffi), never the password itself
    tokens = ["sha256:9f2c…"]             # API tokens, kept as hashes; `kb token NAME` shows one once

With no users file, the one local user may do everything, as before, and the app and `kb serve`
listen on this machine only."""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import AccessError, ConfigError

ROLES = {"reader": "只读", "editor": "编辑", "admin": "管理员"}
ROLE_RIGHTS = {"reader": "检索、阅读", "editor": "另可上传、删除、恢复", "admin": "另可重建向量、管理用户"}
RANK = {role: n for n, role in enumerate(ROLES)}
LOCAL_USER = "本机用户"  # who acts when no users are configured


@dataclass
class User:
    name: str
    role: str
    password: str = ""  # the argon2 hash
    tokens: list[str] = field(default_factory=list)  # "sha256:<hex>" of each API token

    def may(self, role: str) -> bool:
        """Whether this user has at least `role`."""
        return RANK[self.role] >= RANK[role]


class Users:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.users: dict[str, User] = {}
        if self.path.is_file():
            try:
                with self.path.open("rb") as fh:
                    data = tomllib.load(fh)
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(self.path, f"用户文件无法读取（{exc}）") from exc
            for name, entry in (data.get("users") or {}).items():
                if not isinstance(entry, dict) or entry.get("role") not in ROLES:
                    raise ConfigError(self.path, f"用户“{name}”的角色应为 {'、'.join(ROLES)} 之一")
                self.users[name] = User(name, entry["role"], entry.get("password", ""), list(entry.get("tokens", [])))

    @property
    def configured(self) -> bool:
        return bool(self.users)

    def sign_in(self, name: str, password: str) -> User | None:
        """The user, when the password matches its hash; None otherwise (never says which was wrong).
        After FREE_TRIES failures in a row a name must wait, twice as long after each further failure
        (SignInPaused names the seconds): guessing a password takes years, not minutes."""
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        waiting = _FAILURES.wait(name)
        if waiting:
            raise SignInPaused(name, f"登录失败次数过多，请 {waiting} 秒后再试")
        user = self.users.get(name)
        if user is None or not user.password:
            PasswordHasher().hash(password)  # the same time as a wrong password: names are not revealed
            _FAILURES.failed(name)
            return None
        try:
            PasswordHasher().verify(user.password, password)
        except (VerificationError, InvalidHashError):
            _FAILURES.failed(name)
            return None
        _FAILURES.succeeded(name)
        return user

    def by_token(self, token: str) -> User | None:
        digest = token_hash(token)
        return next((u for u in self.users.values() if any(secrets.compare_digest(digest, t) for t in u.tokens)), None)

    # ------------------------------------------------------------- managing
    def add(self, name: str, role: str, password: str) -> User:
        from argon2 import PasswordHasher

        if not name.strip() or any(c in name for c in '"\\\n.[]'):
            raise ConfigError(name, "用户名不能为空，也不能含引号、点、方括号或换行")
        if role not in ROLES:
            raise ConfigError(role, f"未知的角色（可选 {'、'.join(ROLES)}）")
        if len(password) < 8:
            raise ConfigError(name, "密码至少 8 个字符")
        old = self.users.get(name)
        self.users[name] = User(name, role, PasswordHasher().hash(password), old.tokens if old else [])
        self.save()
        return self.users[name]

    def remove(self, name: str) -> None:
        if self.users.pop(name, None) is None:
            raise ConfigError(name, "没有这个用户")
        self.save()

    def new_token(self, name: str) -> str:
        """A new API token for a user: shown once, kept only as its hash."""
        if name not in self.users:
            raise ConfigError(name, "没有这个用户（先用 kb user add 建立）")
        token = "skb_" + secrets.token_urlsafe(32)
        self.users[name].tokens.append(token_hash(token))
        self.save()
        return token

    def save(self) -> None:
        """Writes the file whole and renames it into place; readable by its owner only."""
        lines = []
        for user in self.users.values():
            lines += [f"[users.{json.dumps(user.name, ensure_ascii=False)}]", f"role = {json.dumps(user.role)}",
                      f"password = {json.dumps(user.password)}", f"tokens = {json.dumps(user.tokens)}", ""]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines))
        tmp.replace(self.path)


FREE_TRIES = 5  # failed sign-ins in a row before a name must wait
FIRST_PAUSE = 30.0  # seconds, doubled after each further failure, at most a day
LONGEST_PAUSE = 86_400.0


class SignInPaused(AccessError):
    """Too many failed sign-ins in a row for one name: it may try again after a pause."""


class _Failures:
    """Failed sign-ins per name in this process (each process serves its own users: the app, kb serve)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._failed: dict[str, tuple[int, float]] = {}  # name → (failures in a row, may try again at)

    def wait(self, name: str) -> int:
        with self._lock:
            count, until = self._failed.get(name, (0, 0.0))
        return max(0, math.ceil(until - time.monotonic()))

    def failed(self, name: str) -> None:
        with self._lock:
            count = self._failed.get(name, (0, 0.0))[0] + 1
            pause = 0.0 if count < FREE_TRIES else min(FIRST_PAUSE * 2 ** (count - FREE_TRIES), LONGEST_PAUSE)
            self._failed[name] = (count, time.monotonic() + pause)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failed.pop(name, None)


_FAILURES = _Failures()


def token_hash(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def authorise(users: Users, user: User | None, role: str = "editor") -> str:
    """The name a change is recorded under, when `user` (None: no one signed in) may make it.
    Raises AccessError. With no users configured, the local user may do everything."""
    if not users.configured:
        return LOCAL_USER
    if user is None:
        raise AccessError("", "修改文库需要登录（浏览器界面在侧栏登录；HTTP 接口在请求头带 Authorization: Bearer 令牌，"
                              "令牌由 kb token 用户名 生成）")
    if not user.may(role):
        raise AccessError(user.name, f"权限不足：需要{ROLES[role]}或以上角色", signed_in=True)
    return user.name
