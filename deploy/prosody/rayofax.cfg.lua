-- Prosody configuration for a rayofax deployment.
--
-- rayofaxd connects to Prosody as an XEP-0114 external component that owns
-- the domain "rayo.example.com": calls are addressed as
-- <call-id>@rayo.example.com and their components as
-- <call-id>@rayo.example.com/<component-id>. Rayo applications log in as
-- ordinary users of "example.com" and are named in rayofax.yaml under
-- xmpp.clients.
--
-- The end-to-end tests render this very file: each line marked "@test KEY"
-- is replaced by the test's own line for KEY (ports, paths, domains, secret,
-- no TLS on loopback); everything else is used as it stands.

data_path = "/var/lib/prosody" -- @test data_path
pidfile = "/run/prosody/prosody.pid" -- @test pidfile

interfaces = { "*" } -- @test interfaces
c2s_ports = { 5222 } -- @test c2s_ports
c2s_direct_tls_ports = { }
s2s_ports = { }

-- The component port should be reachable only by rayofaxd: keep it on
-- loopback or a private interface.
component_ports = { 5347 } -- @test component_ports
component_interfaces = { "127.0.0.1" } -- @test component_interfaces

modules_enabled = { "disco"; "roster"; "saslauth"; "tls"; "ping"; "presence"; "iq"; "posix" } -- @test modules_enabled
modules_disabled = { "s2s"; "offline"; "c2s_bosh"; "http" } -- @test modules_disabled

-- Production: require TLS for clients. The tests run on loopback without
-- certificates and turn these off.
c2s_require_encryption = true -- @test c2s_require_encryption
allow_unencrypted_plain_auth = false -- @test allow_unencrypted_plain_auth
authentication = "internal_hashed" -- @test authentication
storage = "internal"
certificates = "certs" -- @test certificates

log = { { levels = { min = "info" }, to = "console" } } -- @test log

VirtualHost "example.com" -- @test virtualhost

-- The secret must equal xmpp.secret in rayofax.yaml (or RAYOFAX_XMPP_SECRET).
Component "rayo.example.com" -- @test component
	component_secret = "change-me" -- @test component_secret

-- Several rayofaxd instances (one beside each FreeSWITCH): give each its own
-- component domain, e.g. rayo1.example.com and rayo2.example.com, each with
-- its own secret, so that commands for a call reach the instance that owns
-- it (see "Scaling beyond one machine" in the README).
