"""Load config.yaml (plus the environment) once, validate it, and split it into each package's config.

Every problem is reported as a ConfigError naming the file and the key, e.g.
`config.yaml: fields[2].digit: '3' is used twice (also fields[1])`; the CLI turns it into exit status 2.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import phonenumbers
import yaml

from callflows import prompts
from callflows.flow_config import LANGUAGES, FlowConfig, Language, MenuOption
from callflows.state import OTHER_SUPPORT_TYPE
from scheduler.recipients import HEAD_ROLE, can_reach
from scheduler.scheduler_config import NotificationConfig, SchedulerConfig
from tickets import clock, throttle
from tickets.business_hours import HOLIDAY_YEARS, holidays_known
from tickets.db import DatabaseBudgets
from tickets.models import Role
from tickets.ticket_config import (
    GENERAL_FIELD,
    EscalationLevel,
    EscalationRecipient,
    IPNetwork,
    LoginConfig,
    PrivacyConfig,
    ReferralConfig,
    RetentionConfig,
    RoutingConfig,
    SlaPolicy,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config.yaml"
# libyaml's parser (in PyYAML's wheels) when there is one: every CLI command, web worker and test loads
# config.yaml, and the pure-Python parser is several times slower.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CHANNELS = ("sms", "email", "webhook", "console")
ROLES_TO_ALERT = ("assignee", "supervisor", "head")

T = TypeVar("T")


@dataclass(frozen=True)
class MetricsConfig:
    """/metrics (config.yaml `metrics:`, the token from METRICS_TOKEN): off unless enabled, and then only
    for the listed networks or a bearer of the token. Never public."""

    enabled: bool = False
    allow_cidrs: tuple[IPv4Network | IPv6Network, ...] = ()
    token: str | None = None


_REQUIRED: Any = object()


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class HotlineConfig:
    path: Path
    flow: FlowConfig
    routing: RoutingConfig
    scheduler: SchedulerConfig
    hotline_name: dict[str, str]
    timezone: str
    verify_signatures: bool
    # From the environment only.
    database_url: str
    secret_key: str | None
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    public_base_url: str | None
    # TWILIO_WEBHOOK_SHARED_KEYS="id=secret,…": webhook SharedKeys (HMAC-SHA256 signatures), by key id
    twilio_webhook_shared_keys: dict[str, str] = field(default_factory=dict)
    database: DatabaseBudgets = field(default_factory=DatabaseBudgets)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    # HOTLINE_SPOOL_DIR: where webhooks the database could not take wait for it (ivr.spool)
    spool_dir: Path = ROOT / "var" / "spool"
    referrals: ReferralConfig = field(default_factory=ReferralConfig)
    logins: LoginConfig = field(default_factory=LoginConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)


class _Section:
    """A mapping being read: remembers its path for messages and which keys were used."""

    def __init__(self, data: Any, path: str, file: str) -> None:
        self.path, self.file = path, file
        if not isinstance(data, Mapping):
            self.fail(f"expected a mapping, got {_kind(data)}")
        self.data: Mapping[str, Any] = data
        self.used: set[str] = set()

    def fail(self, message: str, key: str | None = None) -> None:
        where = self.path + (f".{key}" if self.path and key else key or "")
        raise ConfigError(f"{self.file}: {where or '(top level)'}: {message}")

    def get(self, key: str, kind: type[T] | tuple[type, ...], default: Any = _REQUIRED) -> Any:
        self.used.add(key)
        if key not in self.data or self.data[key] is None:
            if default is _REQUIRED:
                self.fail("missing", key)
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            self.fail(f"expected {_names(kinds)}, got {value!r}", key)
        if not isinstance(value, kinds):
            self.fail(f"expected {_names(kinds)}, got {_kind(value)} {value!r}", key)
        return value

    def section(self, key: str, default: Any = _REQUIRED) -> _Section:
        value = self.get(key, dict, {} if default is not _REQUIRED else _REQUIRED)
        return _Section(value, self.child(key), self.file)

    def items(self, key: str) -> list[_Section]:
        values = self.get(key, list)
        return [_Section(v, f"{self.child(key)}[{i}]", self.file) for i, v in enumerate(values)]

    def positive(self, key: str, default: Any = _REQUIRED, kind: type = int) -> Any:
        value = self.get(key, (int, float) if kind is float else int, default)
        if value is not None and value <= 0:
            self.fail(f"must be greater than zero, got {value!r}", key)
        return value

    def child(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            self.fail(f"unknown key; expected one of: {', '.join(sorted(self.used))}", str(unknown[0]))


def _kind(value: Any) -> str:
    return type(value).__name__


def _names(kinds: tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in kinds)


def _phone(section: _Section, key: str, required: bool = True) -> str | None:
    raw = section.get(key, (str, int), _REQUIRED if required else None)
    if raw is None:
        return None
    try:
        number = phonenumbers.parse(str(raw), "KR")
    except phonenumbers.NumberParseException as error:
        section.fail(f"{raw!r} is not a phone number ({error})", key)
    if not phonenumbers.is_valid_number(number):
        section.fail(f"{raw!r} is not a valid phone number", key)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _clock(section: _Section, key: str, default: time) -> time:
    raw = section.get(key, str, None)
    if raw is None:
        return default
    try:
        return time.fromisoformat(raw)
    except ValueError:
        section.fail(f"expected a time like '09:00', got {raw!r}", key)
        raise


def _names_by_language(section: _Section, key: str, required: bool = True) -> dict[str, str]:
    names = section.section(key) if required else section.section(key, default={})
    result = {}
    for language in LANGUAGES:
        value = names.get(language, str, None)
        if value is not None and not value.strip():
            names.fail("must not be empty", language)
        if value:
            result[language] = value
    names.done()
    if required and "ko" not in result:
        names.fail("missing: every name needs a Korean (ko) text", "ko")
    return result


def _menu(top: _Section, key: str, reserved: Mapping[str, str]) -> tuple[MenuOption, ...]:
    options: list[MenuOption] = []
    seen_digits: dict[str, str] = {}
    seen_keys: dict[str, str] = {}
    entries = top.items(key)
    if not entries:
        top.fail("needs at least one entry", key)
    for entry in entries:
        option_key = entry.get("key", str)
        digit = str(entry.get("digit", (str, int)))
        if len(digit) != 1 or not digit.isdigit():
            entry.fail(f"must be a single digit 0-9, got {digit!r}", "digit")
        if digit in reserved:
            entry.fail(f"{digit!r} is reserved for {reserved[digit]}", "digit")
        if digit in seen_digits:
            entry.fail(f"{digit!r} is used twice (also {seen_digits[digit]})", "digit")
        if option_key in seen_keys:
            entry.fail(f"{option_key!r} is used twice (also {seen_keys[option_key]})", "key")
        seen_digits[digit] = seen_keys[option_key] = entry.path
        hints = entry.get("hints", list, [])
        if not all(isinstance(h, str | int) for h in hints):
            entry.fail("expected a list of words", "hints")
        options.append(
            MenuOption(
                key=option_key,
                digit=digit,
                names=_names_by_language(entry, "name"),
                hints=tuple(str(h) for h in hints),
                description=_names_by_language(entry, "description", required=False),
            )
        )
        entry.done()
    return tuple(options)


def _prompt_texts(top: _Section) -> dict[str, dict[str, str]]:
    """The `prompts` section: the operator's wording of callflows.prompts.EDITABLE, in both languages, each
    with exactly the placeholders of the shipped text (a missing one would drop the reference from the SMS,
    an unknown one would fail in the middle of a call)."""
    section = top.section("prompts", default={})
    texts: dict[str, dict[str, str]] = {}
    for key in prompts.EDITABLE:
        if key not in section.data:
            section.used.add(key)
            continue
        entry = section.section(key)
        texts[key] = {}
        for language in LANGUAGES:
            value = entry.get(language, str)
            if not value.strip():
                entry.fail("must not be empty", language)
            expected = prompts.placeholders(prompts.TEXTS[key][language])
            try:
                found = prompts.placeholders(value)
            except ValueError as error:
                entry.fail(f"not a valid text ({error}); write {{{{ and }}}} for braces", language)
            if found - expected:
                entry.fail(f"unknown placeholder {{{sorted(found - expected)[0]}}}", language)
            if expected - found:
                entry.fail(f"missing placeholder {{{sorted(expected - found)[0]}}}", language)
            texts[key][language] = value
        entry.done()
    section.done()
    return texts


def _languages(top: _Section) -> tuple[str, dict[str, Language]]:
    section = top.section("languages")
    default = section.get("default", str, "ko")
    voices = section.section("voices")
    languages = {}
    for code in LANGUAGES:
        entry = voices.section(code)
        locale = entry.get("locale", str)
        voice = entry.get("voice", str)
        expected = {"ko": "ko-KR", "en": "en-"}[code]
        if not locale.startswith(expected):
            entry.fail(f"{locale!r} is not a locale for {code}", "locale")
        entry.done()
        languages[code] = Language(code=code, locale=locale, voice=voice)
    voices.done()
    if default not in languages:
        section.fail(f"{default!r} is not one of {', '.join(LANGUAGES)}", "default")
    section.done()
    return default, languages


def _recipients(section: _Section, key: str) -> tuple[EscalationRecipient, ...]:
    recipients = []
    for target in section.items(key):
        role = target.get("role", str)
        if role not in ROLES_TO_ALERT:
            target.fail(f"expected one of {', '.join(ROLES_TO_ALERT)}, got {role!r}", "role")
        channels = target.get("channels", list)
        for channel in channels:
            if channel not in CHANNELS:
                target.fail(f"unknown channel {channel!r}; expected {', '.join(CHANNELS)}", "channels")
        target.done()
        recipients.append(EscalationRecipient(role=role, channels=tuple(channels)))
    return tuple(recipients)


def _sla(top: _Section, timezone: str) -> SlaPolicy:
    section = top.section("sla")
    mode = section.get("mode", str, "calendar")
    if mode not in ("calendar", "working_days"):
        section.fail(f"expected calendar or working_days, got {mode!r}", "mode")
    hours = section.section("working_hours", default={})
    start = _clock(hours, "start", time(9, 0))
    end = _clock(hours, "end", time(18, 0))
    hours.done()
    if end <= start:
        section.fail("end must be after start", "working_hours")
    closed = []
    for i, raw in enumerate(section.get("closed_days", list, [])):
        try:
            closed.append(raw if isinstance(raw, date) else date.fromisoformat(str(raw)))
        except ValueError:
            section.fail(f"expected ISO dates, got {raw!r}", f"closed_days[{i}]")
    levels = []
    for entry in section.items("escalation_levels") if "escalation_levels" in section.data else []:
        level = entry.positive("level")
        recipients = _recipients(entry, "notify")
        after = entry.get("after_breach_hours", (int, float), 0)
        if after < 0:
            entry.fail("must not be negative", "after_breach_hours")
        entry.done()
        levels.append(EscalationLevel(level=level, after_breach_hours=float(after), notify=recipients))
    if [lv.level for lv in levels] != list(range(1, len(levels) + 1)):
        section.fail("levels must be numbered 1, 2, … in order", "escalation_levels")
    policy = SlaPolicy(
        mode=mode,
        resolve_within_days=section.positive("resolve_within_days", 3),
        warn_before_hours=float(section.get("warn_before_hours", (int, float), 24)),
        first_callback_within_working_hours=section.positive(
            "first_callback_within_working_hours", None, kind=float
        ),
        missed_call_within_working_days=section.positive("missed_call_within_working_days", 1),
        workday_start=start,
        workday_end=end,
        closed_days=tuple(closed),
        timezone=timezone,
        levels=tuple(levels),
        warning_notify=_recipients(section, "warning_notify")
        if "warning_notify" in section.data
        else SlaPolicy.warning_notify,
    )
    if policy.warn_before_hours < 0:
        section.fail("must not be negative", "warn_before_hours")
    # Deadlines reach into next year: both years' holidays must be known, or every deadline is wrong.
    this_year = clock.now().astimezone(ZoneInfo(timezone)).year
    for year in (this_year, this_year + 1):
        if not holidays_known(year):
            section.fail(
                f"Korean public holidays of {year} are unknown to the installed `holidays` package "
                f"(it covers {HOLIDAY_YEARS.start}–{HOLIDAY_YEARS.stop - 1}); upgrade it"
            )
    section.done()
    return policy


def _notifications(top: _Section) -> NotificationConfig:
    section = top.section("notifications", default={})
    sms = section.section("sms", default={})
    email = section.section("email", default={})
    webhook = section.section("webhook", default={})
    head = section.section("head_of_center", default={})
    config = NotificationConfig(
        max_tries=section.positive("max_tries", 6),
        backoff_seconds=float(section.positive("backoff_seconds", 60, kind=float)),
        sms_enabled=sms.get("enabled", bool, True),
        email_enabled=email.get("enabled", bool, False),
        smtp_host=email.get("smtp_host", str, "localhost"),
        smtp_port=email.positive("smtp_port", 25),
        email_sender=email.get("sender", str, "hotline1379@example.org"),
        webhook_enabled=webhook.get("enabled", bool, False),
        webhook_url=webhook.get("url", str, None),
        head_name=head.get("name", str, "센터장"),
        head_phone=_phone(head, "phone", required=False),
        head_email=head.get("email", str, None),
        digest_time=_clock(section, "digest_time", time(9, 0)),
        sends_per_channel=section.positive("sends_per_channel", 2),
    )
    if config.webhook_enabled and not config.webhook_url:
        webhook.fail("missing: an enabled webhook needs a url", "url")
    for part in (sms, email, webhook, head, section):
        part.done()
    return config


def _check_alerts_reach_someone(sla: SlaPolicy, notifications: NotificationConfig, file: str) -> None:
    """Every alert recipient in config must be reachable on one of its channels, or the alert it stands
    for would reach nobody without a word (e.g. the head of center with no phone and no e-mail).

    Users (assignee, supervisor) are reached by the console inbox, which every user reads: no separate
    "console only" mark is needed, and none could make the head (who has no login) reachable."""
    entries = [(f"sla.warning_notify[{j}]", r) for j, r in enumerate(sla.warning_notify)]
    for i, level in enumerate(sla.levels):
        entries += [(f"sla.escalation_levels[{i}].notify[{j}]", r) for j, r in enumerate(level.notify)]
    for key, recipient in entries:
        if any(can_reach(notifications, recipient.role, channel) for channel in recipient.channels):
            continue
        tried = ", ".join(recipient.channels) or "no channel"
        if recipient.role == HEAD_ROLE:
            fix = (
                "give notifications.head_of_center a mobile phone (sms) or an e-mail address (email, "
                "switched on), or alert another role"
            )
        else:
            fix = "add console: every user reads the console inbox"
        raise ConfigError(f"{file}: {key}: {recipient.role!r} is reached by none of {tried}; {fix}")


def _referrals(top: _Section) -> ReferralConfig:
    section = top.section("referrals", default={})
    defaults = ReferralConfig()
    names = ReferralConfig.__dataclass_fields__
    config = ReferralConfig(**{name: section.positive(name, getattr(defaults, name)) for name in names})
    section.done()
    return config


def _database(top: _Section) -> DatabaseBudgets:
    section = top.section("database", default={})
    defaults = DatabaseBudgets()
    budgets = DatabaseBudgets(
        **{
            name: float(section.positive(name, getattr(defaults, name), kind=float))
            for name in DatabaseBudgets.__dataclass_fields__
        }
    )
    section.done()
    waits = budgets.retry_unavailable_seconds + budgets.webhook_seconds
    if waits >= budgets.answer_seconds:
        section.fail(
            f"must be more than retry_unavailable_seconds + webhook_seconds ({waits:g}): "
            "a webhook that waits that long must still have time to answer",
            "answer_seconds",
        )
    return budgets


def _privacy(top: _Section) -> PrivacyConfig:
    section = top.section("privacy", default={})
    defaults = PrivacyConfig()
    privacy = PrivacyConfig(
        access_log_years=section.positive("access_log_years", defaults.access_log_years),
        outside_fields_threshold=section.positive(
            "outside_fields_threshold", defaults.outside_fields_threshold
        ),
        retention=_retention(section),
        **_privacy_contact(section, defaults),
    )
    section.done()
    return privacy


def _privacy_contact(privacy: _Section, defaults: PrivacyConfig) -> dict[str, Any]:
    """Who answers privacy questions and deletion requests; shown on /privacy."""
    section = privacy.section("contact", default={})
    name = _names_by_language(section, "name") if "name" in section.data else defaults.contact_name
    section.used.add("name")
    email = section.get("email", str, None)
    if email is not None and "@" not in email:
        section.fail(f"expected an e-mail address, got {email!r}", "email")
    contact = {
        "contact_name": name,
        "contact_phone": _phone(section, "phone", required=False),
        "contact_email": email,
    }
    section.done()
    return contact


def _retention(privacy: _Section) -> RetentionConfig:
    section = privacy.section("retention", default={})
    defaults = RetentionConfig()
    retention = RetentionConfig(
        recordings_days=section.positive("recordings_days", defaults.recordings_days),
        numbers_years=section.positive("numbers_years", defaults.numbers_years),
        incomplete_days=section.positive("incomplete_days", defaults.incomplete_days),
    )
    section.done()
    return retention


def _logins(top: _Section) -> LoginConfig:
    section = top.section("logins", default={})
    defaults = LoginConfig()
    config = LoginConfig(
        session_hours=float(section.positive("session_hours", defaults.session_hours, kind=float)),
        throttle_minutes=float(section.positive("throttle_minutes", defaults.throttle_minutes, kind=float)),
        failures_per_username=section.positive("failures_per_username", defaults.failures_per_username),
        failures_per_address=section.positive("failures_per_address", defaults.failures_per_address),
        proxies_in_front=section.get("proxies_in_front", int, defaults.proxies_in_front),
        two_step_roles=_two_step_roles(section),
        two_step_outside_office=section.get(
            "two_step_outside_office", bool, defaults.two_step_outside_office
        ),
        office_networks=_office_networks(section),
    )
    if config.proxies_in_front < 0:
        section.fail(f"must not be negative, got {config.proxies_in_front!r}", "proxies_in_front")
    if timedelta(minutes=config.throttle_minutes) > throttle.LONGEST_WINDOW:
        section.fail(
            f"at most a day ({throttle.LONGEST_WINDOW}), got {config.throttle_minutes!r}", "throttle_minutes"
        )
    section.done()
    return config


def _two_step_roles(section: _Section) -> tuple[str, ...]:
    roles = section.get("two_step_roles", list, [])
    for role in roles:
        if role not in set(Role):
            section.fail(f"{role!r} is not a role; roles are {', '.join(Role)}", "two_step_roles")
    return tuple(roles)


def _office_networks(section: _Section) -> tuple[IPNetwork, ...]:
    networks = []
    for raw in section.get("office_networks", list, []):
        try:
            # strict: "10.1.2.3/16" is more likely a typo than a network, so it is refused, not widened
            networks.append(ip_network(str(raw), strict=True))
        except ValueError as error:
            section.fail(f"{raw!r} is not a network in CIDR notation ({error})", "office_networks")
    return tuple(networks)


def _metrics(top: _Section, env: Mapping[str, str]) -> MetricsConfig:
    section = top.section("metrics", default={})
    enabled = section.get("enabled", bool, False)
    networks = []
    for i, cidr in enumerate(section.get("allow_cidrs", list, [])):
        try:
            networks.append(ip_network(str(cidr)))
        except ValueError:
            section.fail(f"expected a network such as 10.0.0.0/8, got {cidr!r}", f"allow_cidrs[{i}]")
    section.done()
    token = env.get("METRICS_TOKEN") or None
    if token is not None and len(token) < 32:
        raise ConfigError("environment: METRICS_TOKEN: too short; make one with: openssl rand -hex 32")
    return MetricsConfig(enabled=enabled, allow_cidrs=tuple(networks), token=token)


def parse_config(
    data: Any, file: str = "config.yaml", environ: Mapping[str, str] | None = None
) -> HotlineConfig:
    env = os.environ if environ is None else environ
    top = _Section(data if data is not None else {}, "", file)
    hotline = top.section("hotline")
    number = _phone(hotline, "number")
    assert number is not None
    name = _names_by_language(hotline, "name")
    timezone = hotline.get("timezone", str, "Asia/Seoul")
    hotline.done()

    default_language, languages = _languages(top)
    fields = _menu(top, "fields", reserved={"0": "'not sure'", "9": "English"})
    if any(f.key == GENERAL_FIELD for f in fields):
        top.fail(f"{GENERAL_FIELD!r} is reserved for the 'not sure' pool", "fields")
    support_types = _menu(top, "support_types", reserved={})
    if not any(s.key == OTHER_SUPPORT_TYPE for s in support_types):
        top.fail(f"needs an entry with key {OTHER_SUPPORT_TYPE!r}: the call flow's default", "support_types")

    texts = _prompt_texts(top)
    flow_section = top.section("call_flow", default={})
    sla = _sla(top, timezone)
    flow = FlowConfig(
        hotline_number=number,
        languages=languages,
        fields=fields,
        support_types=support_types,
        default_language=default_language,
        recording_max_seconds=flow_section.positive("recording_max_seconds", 120),
        max_failures=flow_section.positive("max_failures", 3),
        gather_timeout_seconds=flow_section.positive("gather_timeout_seconds", 6),
        promise_days=sla.resolve_within_days,
        texts=texts,
    )
    verify = flow_section.get("verify_signatures", bool, True)
    flow_section.done()

    routing_section = top.section("routing", default={})
    routing = RoutingConfig(
        field_keys=tuple(f.key for f in fields),
        support_type_keys=tuple(s.key for s in support_types),
        release_unclaimed_after_working_hours=float(
            routing_section.positive("release_unclaimed_after_working_hours", 9, kind=float)
        ),
        unreached_attempts_before_sms=routing_section.positive("unreached_attempts_before_sms", 3),
        hotline_number=number,
        timezone=timezone,
    )
    routing_section.done()

    notifications = _notifications(top)
    _check_alerts_reach_someone(sla, notifications, file)
    scheduler_section = top.section("scheduler", default={})
    scheduler = SchedulerConfig(
        sla=sla,
        notifications=notifications,
        sweep_interval_seconds=scheduler_section.positive("sweep_interval_seconds", 60),
    )
    scheduler_section.done()
    database = _database(top)
    referrals = _referrals(top)
    privacy = _privacy(top)
    logins = _logins(top)
    metrics = _metrics(top, env)
    top.done()

    public_base_url = env.get("PUBLIC_BASE_URL") or None
    if public_base_url and not public_base_url.startswith(("http://", "https://")):
        raise ConfigError(f"environment: PUBLIC_BASE_URL: expected http(s)://host, got {public_base_url!r}")
    if public_base_url and not env.get("TWILIO_AUTH_TOKEN"):
        # Reachable from Twilio means reachable from anyone: the public development token must not guard it.
        raise ConfigError(
            "environment: TWILIO_AUTH_TOKEN: missing; it is required when PUBLIC_BASE_URL is set "
            "(Twilio signs every webhook with it)"
        )
    return HotlineConfig(
        path=Path(file),
        flow=flow,
        routing=routing,
        scheduler=scheduler,
        hotline_name=name,
        timezone=timezone,
        verify_signatures=verify,
        database_url=env.get("DATABASE_URL") or f"sqlite:///{ROOT / 'var' / 'hotline.sqlite3'}",
        secret_key=env.get("SECRET_KEY") or None,
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
        public_base_url=public_base_url.rstrip("/") if public_base_url else None,
        twilio_webhook_shared_keys=_shared_keys(env.get("TWILIO_WEBHOOK_SHARED_KEYS") or ""),
        database=database,
        privacy=privacy,
        spool_dir=Path(env.get("HOTLINE_SPOOL_DIR") or ROOT / "var" / "spool"),
        referrals=referrals,
        logins=logins,
        metrics=metrics,
    )


def _shared_keys(raw: str) -> dict[str, str]:
    keys = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        key_id, separator, secret = item.partition("=")
        if not separator or not key_id.strip() or not secret.strip():
            raise ConfigError("environment: TWILIO_WEBHOOK_SHARED_KEYS: expected id=secret[,id=secret…]")
        keys[key_id.strip()] = secret.strip()
    return keys


def load_config(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> HotlineConfig:
    env = os.environ if environ is None else environ
    file = Path(path or env.get("HOTLINE_CONFIG") or DEFAULT_CONFIG)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{file}: cannot read ({error.strerror})") from None
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as error:
        raise ConfigError(f"{file}: not valid YAML: {error}") from None
    return parse_config(data, str(file), env)
