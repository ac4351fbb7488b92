#!/usr/bin/perl
# The Debian packages (make deb) installed on this machine: the files where
# Debian's libnginx-mod-* put theirs, the modules-enabled symlink, the
# nginx-abi dependency, the watcher's user and key; then one whole purchase
# through the packaged module (nginx -c with a test config that includes the
# packaged modules-enabled file, on free ports; the system's nginx service is
# left alone) and the packaged command line of the watcher's unit, run as its
# user against a regtest node; then remove and purge, and nothing is left but
# the operator's own file. END puts the machine back as it was, pass or fail.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use BcTest;

my @PKGS = qw(libnginx-mod-http-bitcache bitcache);
my $ENABLED = '/etc/nginx/modules-enabled/50-mod-http-bitcache.conf';
my $AVAILABLE = '/usr/share/nginx/modules-available/mod-http-bitcache.conf';
my $SO = '/usr/lib/nginx/modules/ngx_http_bitcache_module.so';
my $UNIT = '/lib/systemd/system/bitcache-watch.service';
my $DEFAULTS = '/etc/default/bitcache-watch';
my $OPERATOR_FILE = '/etc/bitcache/secret';

plan skip_all => 'installs Debian packages: run as root' if $> != 0;
plan skip_all => 'no dpkg on this machine' if system('command -v dpkg >/dev/null 2>&1') != 0;
sub installed { `dpkg-query -W -f '\${db:Status-Status}' $_[0] 2>/dev/null` =~ /^(installed|config-files|half)/ }
for (@PKGS) {
    plan skip_all => "$_ is installed on this machine already; the test would remove it" if installed($_);
}

# what the machine had before, for END and for the last check
sub bitcache_paths { sort grep { length } split /\n/, `find /etc /usr /lib /var -ipath '*bitcache*' 2>/dev/null` }
my @before = bitcache_paths();
my $had_user = getpwnam('bitcache') ? 1 : 0;
my $had_policy = -e '/usr/sbin/policy-rc.d';
my $had_operator_dir = -e '/etc/bitcache';
my $t;

END {
    my $rc = $?;
    if ($t) {
        $t->stop_watcher;
        $t->stop_nginx;
    }
    system('dpkg', '--purge', @PKGS) if grep { installed($_) } @PKGS;
    unlink $OPERATOR_FILE;
    rmdir '/etc/bitcache' unless $had_operator_dir;
    system('deluser --system --quiet bitcache >/dev/null 2>&1') if !$had_user && getpwnam('bitcache');
    unlink '/usr/sbin/policy-rc.d' unless $had_policy;
    $? = $rc;
}

# keep the packages' scripts from starting or reloading the system's nginx
if (!$had_policy) {
    open my $fh, '>', '/usr/sbin/policy-rc.d' or die "policy-rc.d: $!";
    print $fh "#!/bin/sh\nexit 101\n";
    close $fh;
    chmod 0755, '/usr/sbin/policy-rc.d';
}

# the packages: those make deb made, unless a source file is newer
my $deb_dir = "$BcTest::ROOT/build/deb";
chomp(my $version = `cd $BcTest::ROOT && dpkg-parsechangelog -S Version`);
my @debs = map { "$deb_dir/${_}_${version}_amd64.deb" } @PKGS;
my $newest = 0;
for (split /\n/, `cd $BcTest::ROOT && git ls-files 2>/dev/null`) {
    my $m = (stat "$BcTest::ROOT/$_")[9];
    $newest = $m if $m && $m > $newest;
}
if (grep { !-e $_ || (stat $_)[9] < $newest } @debs) {
    note 'building the packages (make deb)';
    my $out = `cd $BcTest::ROOT && make deb 2>&1`;
    is($?, 0, 'make deb builds the packages and lintian passes') or diag $out;
}
ok(-e $_, "package $_") for @debs;

# --- install --------------------------------------------------------------
my $out = `dpkg -i @debs 2>&1`;
is($?, 0, 'dpkg -i installs both') or diag $out;
ok(installed($_), "$_ installed") for @PKGS;

ok(-f $SO, "the module in /usr/lib/nginx/modules");
is(slurp($AVAILABLE), "load_module modules/ngx_http_bitcache_module.so;\n",
   'mod-http-bitcache.conf in modules-available loads it');
is(readlink($ENABLED) // '', $AVAILABLE, 'enabled by a symlink in /etc/nginx/modules-enabled');
my ($abi) = `dpkg-query -W -f '\${Provides}' nginx` =~ /(nginx-abi-[^,\s]+)/;
my $depends = `dpkg-query -W -f '\${Depends}' libnginx-mod-http-bitcache`;
like($depends, qr/(^|, )\Q$abi\E(,|$)/, "depends on the $abi that nginx provides") if $abi;
ok($abi, 'nginx provides an nginx-abi') or diag `dpkg-query -W -f '\${Provides}' nginx`;
like($depends, qr/libhiredis\S* .*libsecp256k1-1/, 'and on the runtime libraries by package')
    or diag $depends;

ok(-x '/usr/bin/bitcache', '/usr/bin/bitcache');
ok(-f "/usr/share/man/man1/bitcache.1.gz", 'man page bitcache(1)');
ok(-f "/usr/share/man/man5/bitcache-directives.5.gz", 'man page bitcache-directives(5)');
my $unit = slurp($UNIT);
like($unit, qr/^User=bitcache$/m, 'the unit runs as bitcache');
like($unit, qr/^Restart=on-failure$/m, 'and restarts on failure');

if (system('command -v systemd-analyze >/dev/null 2>&1') == 0) {
    my $v = `systemd-analyze verify --man=no $UNIT 2>&1`;
    is($v, '', 'systemd-analyze verify finds nothing wrong in the unit');
}

my @pw = getpwnam('bitcache');
ok(@pw, 'system user bitcache');
ok(@pw && $pw[2] < 1000, "a system uid ($pw[2])") if @pw;
like($pw[8] // '', qr{/(nologin|false)$}, 'no login shell') if @pw;
my @st = stat '/etc/bitcache/watcher.key';
ok(@st, 'the watcher key made by postinst');
is(@st ? $st[4] : -1, $pw[2] // -2, 'owned by bitcache');
is(@st ? $st[2] & 07777 : -1, 0600, 'readable by it only');
@st = stat '/etc/bitcache';
is(@st ? sprintf('%o %d', $st[2] & 07777, $st[5]) : '', sprintf('750 %d', $pw[3] // -1),
   '/etc/bitcache: root and group bitcache only');
chomp(my $watcher_pub = slurp('/etc/bitcache/watcher.pub'));
like($watcher_pub, qr/^[0-9a-f]{64}$/, 'its public key in watcher.pub');

# installing again (an upgrade) keeps the key and the operator's choice
my $key = slurp('/etc/bitcache/watcher.key');
unlink $ENABLED;    # the operator disables the module
$out = `dpkg -i @debs 2>&1`;
is($?, 0, 'dpkg -i again') or diag $out;
is(slurp('/etc/bitcache/watcher.key'), $key, 'the same key after an upgrade');
ok(!-e $ENABLED && !-l $ENABLED, 'a module the operator disabled stays disabled');
symlink $AVAILABLE, $ENABLED or die "$ENABLED: $!";

# --- a purchase through the packaged module and watcher -------------------
$BcTest::CLI = '/usr/bin/bitcache';    # the secret BcTest writes comes from it
$t = BcTest->new;
$t->start_redis;
$t->start_node;
$t->fund_wallet;
my $book = $t->make_file('files/book.pdf', 100_000);
$t->{http_port} = BcTest::free_port();
my $http = <<"CONF";
    bitcache_redis %%REDIS%% timeout=2s;
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        bitcache_secret %%DIR%%/secret;
        bitcache_network regtest;
        bitcache_watcher_key $watcher_pub;
        bitcache_wallet "$BcTest::TEST_WALLET";
        bitcache_price 12345;
        location /files/ { bitcache on; bitcache_confirmations 1; }
        location /bitcache/ { bitcache_api; }
    }
CONF
# nginx's own prefix (no -p): modules/ is /usr/share/nginx/modules, Debian's
# link to /usr/lib/nginx/modules, as for the system's nginx
my $conf = $t->write_file('nginx.conf', "include $ENABLED;\n" . $t->nginx_conf($http, plain => 1));
$out = `nginx -t -c $conf 2>&1`;
is($?, 0, 'nginx -t with the packaged modules-enabled file') or diag $out;
$out = `nginx -c $conf 2>&1`;
is($?, 0, 'nginx starts') or diag $out;
BcTest::wait_port($t->{http_port}, 1) or diag 'nginx is not listening';
chomp($t->{nginx_pid} = slurp($t->dir . '/logs/nginx.pid'));
my ($worker) = grep { /^\d+$/ } split /\s+/, `pgrep -P $t->{nginx_pid}`;
like(slurp("/proc/$worker/maps"), qr{ \Q$SO\E$}m, "its worker maps $SO") if $worker;

# the watcher: the unit's ExecStart, with /etc/default/bitcache-watch's
# settings where the test has none of its own, as the unit's user
my %env = slurp($DEFAULTS) =~ /^([A-Z_]+)=(.*)$/mg;
ok(exists $env{$_}, "$DEFAULTS sets $_") for qw(BITCACHE_RPC BITCACHE_REDIS BITCACHE_KEY);
my $secret = $t->write_file('watch-secret', slurp($t->dir . '/secret'), 0600);
my $cookie = $t->write_file('cookie', "x:$BcTest::NODE_KEY\n", 0600);
chown $pw[2], $pw[3], $secret, $cookie;
%env = (%env, BITCACHE_RPC => $t->node_url, BITCACHE_RPC_COOKIE => $cookie,
        BITCACHE_REDIS => $t->redis_addr, BITCACHE_SECRET => $secret, BITCACHE_NETWORK => 'regtest');
my ($exec) = $unit =~ /^ExecStart=(.*)$/m;
my @argv = map { s/\$\{(\w+)\}/$env{$1} \/\/ die "unit: \$$1 unset"/ger } split ' ', $exec // '';
is($argv[0] // '', '/usr/bin/bitcache', 'the unit runs /usr/bin/bitcache');
my $pid = fork // die;
if (!$pid) {
    open STDOUT, '>>', $t->dir . '/logs/watcher.log';
    open STDERR, '>&', \*STDOUT;
    $) = "$pw[3] $pw[3]";
    POSIX::setgid($pw[3]) && POSIX::setuid($pw[2]) or POSIX::_exit(126);
    exec(@argv) or POSIX::_exit(127);
}
$t->{pids}{watcher} = $pid;

my $inv = $t->new_invoice('/files/book.pdf');
like($inv->{address}, qr/^bcrt1q/, 'an invoice from the packaged module');
my $txid = $t->wallet_rpc('sendtoaddress', $inv->{address}, 0.00012345);
ok(BcTest::wait_until(sub { ($t->invoice_status($inv->{id})->{state} // '') eq 'seen' }, 30),
   'the packaged watcher sees the payment') or diag $t->watcher_log;
$t->mine(1);
my $s = BcTest::wait_until(sub { my $s = $t->invoice_status($inv->{id}); $s->{token} ? $s : undef }, 30);
ok($s, 'paid: a token, the attestation verified with watcher.pub')
    or diag $t->watcher_log . $t->error_log;
my $r = $t->get('/files/book.pdf?bitcache_token=' . ($s->{token} // ''));
is($r->{status}, 200, 'the token downloads');
ok($r->{content} eq $book, 'the exact bytes');
unlike($t->watcher_log, qr/\Q$BcTest::NODE_KEY\E/, 'no secret in the watcher log');
$t->stop_watcher;
$t->stop_nginx;
$t->check_log_clean;
unlink $secret, $cookie;    # the test's, not the package's

# --- remove, then purge --------------------------------------------------
# the operator's own file, which purge must leave
open my $fh, '>', $OPERATOR_FILE or die "$OPERATOR_FILE: $!";
print $fh "operator\n";
close $fh;
$out = `dpkg --remove @PKGS 2>&1`;
is($?, 0, 'dpkg --remove') or diag $out;
ok(!-e $SO && !-e '/usr/bin/bitcache', 'the module and the command are gone');
ok(!-e $ENABLED && !-l $ENABLED, 'no module symlink in modules-enabled');
is(readlink("$ENABLED.removed") // '', $AVAILABLE,
   'kept as .removed until purge, as Debian\'s modules do (nginx includes *.conf only)');
ok(-e $DEFAULTS, 'remove keeps the conffile');
ok(-e '/etc/bitcache/watcher.key', 'and the key (until purge)');

$out = `dpkg --purge @PKGS 2>&1`;
is($?, 0, 'dpkg --purge') or diag $out;
ok(!installed($_), "$_ purged") for @PKGS;
my @left = grep { my $p = $_; !grep { $_ eq $p } @before } bitcache_paths();
is_deeply(\@left, ['/etc/bitcache', $OPERATOR_FILE], "nothing left but the operator's file")
    or diag "left: @left";
ok(!grep({ m{^/etc/nginx/modules-enabled/.*bitcache} } @left), 'no symlink, not even a .removed one');
ok(getpwnam('bitcache'), 'the system user stays (Debian policy: no uid reuse)');
my $owned = `find / -xdev -user bitcache 2>/dev/null`;
is($owned, '', 'no file owned by bitcache is left');

done_testing;

sub slurp {
    my ($path) = @_;
    open my $f, '<', $path or return '';
    local $/;
    return <$f>;
}
