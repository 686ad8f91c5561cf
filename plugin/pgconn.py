"""PostGIS projects in QGIS through QGIS's own saved connections and
authentication configurations.

A saved PostgreSQL connection (Data Source Manager / Browser) names the
server; when it uses an authentication configuration (``authcfg``) the user
name and password live in QGIS's encrypted authentication database. This
module never writes a password anywhere:

* the project string handed to the engine and the command line
  (``postgresql://user@host:port/db?schema=NAME``) has no password;
* layers added to the map carry ``authcfg=ID`` in their data source, never
  user / password, so a saved .qgz holds no secret;
* the engine connects with psycopg through ``layers.pg.connect``; a hook
  registered there (``pg.CONNECT_HOOKS``) looks the credentials up in QGIS's
  authentication manager at connect time, in memory, and gives them to
  psycopg as keyword arguments (no environment variable, no file, no log).

Nothing here builds widgets (the Project tab is plugin/project_tab_pg.py).
"""
from __future__ import annotations

import threading
import urllib.parse

from qgis.core import (QgsApplication, QgsAuthMethodConfig, QgsCoordinateReferenceSystem, QgsDataSourceUri,
                       QgsProject, QgsProviderRegistry, QgsSettings, QgsVectorLayer, QgsWkbTypes)

PROVIDER = "postgres"
SETTINGS_ROOT = "PostgreSQL/connections"
#: Custom property on every layer we add: the project string it belongs to.
PROP_PROJECT = "renewal_planner/project"


class ConnectionError_(Exception):
    """A saved connection that cannot be used (message for the user, no secret in it)."""


# --------------------------------------------------------------------------
# QGIS's saved connections


def _metadata():
    try:
        return QgsProviderRegistry.instance().providerMetadata(PROVIDER)
    except Exception:  # pragma: no cover - provider missing
        return None


def connection_names() -> list:
    """Names of QGIS's saved PostgreSQL connections, sorted."""
    md = _metadata()
    if md is not None and hasattr(md, "connections"):
        try:
            return sorted(md.connections().keys(), key=str.lower)
        except Exception:  # pragma: no cover - connections API unusable: read the settings
            pass
    s = QgsSettings()
    s.beginGroup(SETTINGS_ROOT)
    try:
        return sorted(s.childGroups(), key=str.lower)
    finally:
        s.endGroup()


def connection_uri(name: str) -> QgsDataSourceUri:
    """The data source URI of saved connection ``name`` (3.22+: the connections
    API; before: the settings QGIS writes under PostgreSQL/connections)."""
    md = _metadata()
    if md is not None and hasattr(md, "connections"):
        try:
            conns = md.connections()
        except Exception:  # pragma: no cover
            conns = None
        if conns is not None:
            if name not in conns:
                raise ConnectionError_(f"no saved PostgreSQL connection named {name!r}")
            return QgsDataSourceUri(conns[name].uri())
    return _settings_uri(name)


def _settings_uri(name: str) -> QgsDataSourceUri:
    s = QgsSettings()
    key = f"{SETTINGS_ROOT}/{name}"
    if not s.contains(f"{key}/host") and not s.contains(f"{key}/service") \
            and not s.contains(f"{key}/database"):
        raise ConnectionError_(f"no saved PostgreSQL connection named {name!r}")
    uri = QgsDataSourceUri()
    user = s.value(f"{key}/username", "") if s.value(f"{key}/saveUsername", "true") in (True, "true") else ""
    password = s.value(f"{key}/password", "") if s.value(f"{key}/savePassword", "false") in (True, "true") \
        else ""
    ssl = s.value(f"{key}/sslmode", QgsDataSourceUri.SslPrefer)
    try:
        ssl = QgsDataSourceUri.SslMode(int(ssl))
    except (TypeError, ValueError):
        ssl = QgsDataSourceUri.decodeSslMode(str(ssl))
    service = s.value(f"{key}/service", "") or ""
    if service:
        uri.setConnection(service, s.value(f"{key}/database", "") or "", user or "", password or "", ssl,
                          s.value(f"{key}/authcfg", "") or "")
    else:
        uri.setConnection(s.value(f"{key}/host", "") or "", str(s.value(f"{key}/port", "5432") or "5432"),
                          s.value(f"{key}/database", "") or "", user or "", password or "", ssl,
                          s.value(f"{key}/authcfg", "") or "")
    return uri


# --------------------------------------------------------------------------
# Credentials: resolved in memory, at the moment they are needed


def auth_credentials(authcfg: str) -> dict:
    """{'user': ..., 'password': ...} of authentication configuration ``authcfg``
    (decrypted by QGIS's authentication manager; the master password must be
    set or QGIS asks for it). Kept by the caller only as long as it needs it."""
    am = QgsApplication.authManager()
    cfg = QgsAuthMethodConfig()
    res = am.loadAuthenticationConfig(authcfg, cfg, True)
    ok = res[0] if isinstance(res, tuple) else bool(res)
    if isinstance(res, tuple) and len(res) > 1 and isinstance(res[1], QgsAuthMethodConfig):
        cfg = res[1]
    if not ok or not cfg.isValid():
        raise ConnectionError_(f"QGIS cannot load the authentication configuration {authcfg} "
                               f"(is the master password set?)")
    out = {}
    if cfg.config("username"):
        out["user"] = cfg.config("username")
    if cfg.config("password"):
        out["password"] = cfg.config("password")
    return out


def _key(host, port, dbname, user) -> tuple:
    return (host or "", str(port or ""), dbname or "", user or "")


class CredentialRegistry:
    """Which saved connection serves which server / database / user.

    Holds connection names and authcfg ids only, never a password: the hook
    (``__call__``, registered in ``layers.pg.CONNECT_HOOKS``) resolves the
    credentials when psycopg connects, from any thread.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._by_key = {}

    def register(self, name: str, uri: QgsDataSourceUri, user: str) -> None:
        with self._lock:
            self._by_key[_key(uri.host(), uri.port(), uri.database(), user)] = (name, uri.authConfigId())

    def clear(self) -> None:
        with self._lock:
            self._by_key.clear()

    def lookup(self, conninfo: str):
        from ..layers import pg

        kv = pg._psycopg().conninfo.conninfo_to_dict(conninfo)
        with self._lock:
            return self._by_key.get(_key(kv.get("host"), kv.get("port"), kv.get("dbname"), kv.get("user")))

    def __call__(self, project) -> dict:
        """psycopg keyword arguments for ``project`` (a layers.pg.PgProject), or None."""
        hit = self.lookup(project.conninfo)
        if hit is None:
            return None
        name, authcfg = hit
        if authcfg:
            return auth_credentials(authcfg)
        # A connection whose user chose to store the password in QGIS's own
        # settings: hand it over the same way, in memory.
        try:
            uri = connection_uri(name)
        except ConnectionError_:
            return None
        return {"password": uri.password()} if uri.password() else None


REGISTRY = CredentialRegistry()


def install() -> None:
    """Register the credential hook with the engine's PostgreSQL connector (idempotent)."""
    from ..layers import pg

    if REGISTRY not in pg.CONNECT_HOOKS:
        pg.CONNECT_HOOKS.append(REGISTRY)


def uninstall() -> None:
    """Remove the hook and forget the connections (plugin unload)."""
    from ..layers import pg

    while REGISTRY in pg.CONNECT_HOOKS:
        pg.CONNECT_HOOKS.remove(REGISTRY)
    REGISTRY.clear()


# --------------------------------------------------------------------------
# Project strings


def connection_user(uri: QgsDataSourceUri) -> str:
    """The database user of a connection (from its authcfg when it has one)."""
    if uri.authConfigId():
        return auth_credentials(uri.authConfigId()).get("user", "")
    return uri.username()


def project_string(name: str, schema: str, uri: QgsDataSourceUri = None) -> str:
    """``postgresql://user@host:port/db?schema=NAME`` for saved connection
    ``name``: no password, ever. Registers the connection's credentials hook."""
    uri = uri or connection_uri(name)
    if not uri.database():
        raise ConnectionError_(f"the saved connection {name!r} names no database")
    user = connection_user(uri)
    netloc = urllib.parse.quote(user, safe="") + "@" if user else ""
    host = uri.host() or ""
    netloc += f"[{host}]" if ":" in host else host
    if uri.port():
        netloc += f":{uri.port()}"
    query = []
    if uri.service():
        query.append(("service", uri.service()))
    if uri.sslMode() not in (QgsDataSourceUri.SslPrefer,):
        query.append(("sslmode", QgsDataSourceUri.encodeSslMode(uri.sslMode())))
    query.append(("schema", schema))
    install()
    REGISTRY.register(name, uri, user)
    return f"postgresql://{netloc}/{urllib.parse.quote(uri.database(), safe='')}?{urllib.parse.urlencode(query)}"


def list_project_schemas(name: str) -> list:
    """Schemas of the connection's database that are Renewal Planner projects
    (have an rp_project table this user may read), sorted."""
    from ..layers import pg

    base = project_string(name, "public")
    con = pg.connect(base, autocommit=True)
    try:
        rows = con.execute(
            "SELECT n.nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid "
            "WHERE c.relname = %s AND c.relkind IN ('r', 'p') "
            "AND has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT') "
            "ORDER BY n.nspname", (pg.PROJECT_TABLE,)).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


# --------------------------------------------------------------------------
# Layers


def layer_uri(conn: QgsDataSourceUri, schema: str, table: str, geometry, kind: str = None,
              srid: int = None) -> QgsDataSourceUri:
    """The layer's data source: the connection's server and authcfg, never a
    user name / password pair when an authcfg is there, never a password."""
    from ..layers import pg

    uri = QgsDataSourceUri()
    ssl = conn.sslMode()
    if conn.service():
        uri.setConnection(conn.service(), conn.database(), "" if conn.authConfigId() else conn.username(),
                          "", ssl, conn.authConfigId())
    else:
        uri.setConnection(conn.host(), conn.port(), conn.database(),
                          "" if conn.authConfigId() else conn.username(), "", ssl, conn.authConfigId())
    uri.setDataSource(schema, table, pg.GEOM_COLUMN if geometry else "", "", pg.FID)
    uri.setKeyColumn(pg.FID)
    if kind is not None:
        uri.setWkbType({"Point": QgsWkbTypes.Point, "LineString": QgsWkbTypes.LineString,
                        "Polygon": QgsWkbTypes.Polygon}[kind])
    if srid and geometry:
        uri.setSrid(str(srid))
    return uri


def add_project_layers(name: str, schema: str, project: QgsProject = None, lang: str = "zh") -> dict:
    """Add every layer of PostGIS project ``schema`` on saved connection
    ``name`` to ``project``, styled from the database's layer_styles (zh
    default or en), grouped per theme as a GeoPackage project is
    (layers/styles.py). Returns {name: layer}; the conflict layer as
    'conflict:Point', 'conflict:LineString', 'conflict:Polygon'."""
    from ..layers import pg
    from ..layers import styles

    project = project if project is not None else QgsProject.instance()
    conn = connection_uri(name)
    pstring = project_string(name, schema, conn)
    crs_text = pg.project_crs(pstring)
    srid = pg.parse_srid(crs_text) if crs_text else None

    def opener(table, kind):
        uri = layer_uri(conn, schema, table, _geometry_of(table), kind, srid)
        opts = QgsVectorLayer.LayerOptions(project.transformContext())
        opts.loadDefaultStyle = False
        layer = QgsVectorLayer(uri.uri(False), table, PROVIDER, opts)
        if not layer.isValid():
            raise ConnectionError_(f"QGIS cannot open layer {schema}.{table} of connection {name!r}")
        return layer

    return styles.add_styled_layers(set(pg.list_layers(pstring)), opener,
                                    QgsCoordinateReferenceSystem(crs_text or ""), project, lang,
                                    {PROP_PROJECT: pstring})


def _geometry_of(table: str):
    from ..layers import schema as model_schema

    return model_schema.model().layer(table).geometry


def project_layers(project_string_: str, table: str = None, qproject: QgsProject = None) -> list:
    """Map layers we added for PostGIS project ``project_string_`` (of ``table`` when given)."""
    from ..layers import styles

    qproject = qproject or QgsProject.instance()
    return [lyr for lyr in qproject.mapLayers().values()
            if lyr.customProperty(PROP_PROJECT) == project_string_
            and (table is None or lyr.customProperty(styles.PROP_LAYER) == table)]


def connection_of(project_string_: str):
    """The saved connection registered for a project string, or None."""
    from ..layers import pg

    try:
        hit = REGISTRY.lookup(pg.PgProject(project_string_).conninfo)
    except Exception:
        return None
    return hit[0] if hit else None


def normalize_project(path):
    """The one form of a project the tabs keep: an absolute GeoPackage path, a
    PostGIS project string unchanged, or None."""
    import os

    from ..layers.project import is_pg

    if not path:
        return None
    return path if is_pg(path) else os.path.abspath(path)


def project_areas(project: str) -> list:
    """[(uid, community)] of a PostGIS project's renovation areas, sorted ([] on error)."""
    from ..layers import pg

    try:
        p = pg.PgProject(project)
        sql = pg._sql()
        with pg._connection(p) as con:
            return [tuple(r) for r in con.execute(sql.SQL(
                "SELECT uid, community FROM {} WHERE uid IS NOT NULL ORDER BY community, uid").format(
                sql.Identifier(p.schema, "renovation_area"))).fetchall()]
    except Exception:
        return []


def conflict_source(project: str):
    """Data source (authcfg, no password) of a PostGIS project's conflict table
    through its registered saved connection; None when no connection serves it."""
    from ..layers import pg

    name = connection_of(project)
    if name is None:
        return None
    try:
        conn = connection_uri(name)
    except ConnectionError_:
        return None
    return layer_uri(conn, pg.PgProject(project).schema, "conflict", "Geometry").uri(False)
