#!/usr/bin/perl
# Redis ACL users (Redis 6+): a whole purchase with exactly the users of
# conf.example/redis-users.conf (nginx: bitcache_redis user= password=, the
# watcher and the admin CLI: --redis-user), then what a wrong password or a
# user without a command gets: 503 and a log line that names the user,
# never the password; and recovery once the ACL is fixed, without a reload.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use BcTest;
use TokenRef qw(mint_token);

my $t = BcTest->new;
my %pw = map { $_ => "pw-$_-" . join('', map { ('a' .. 'z')[rand 26] } 1 .. 24) }
         qw(NGINX WATCH ADMIN);

# the documented users, with the test's passwords; the test's own redis()
# helper speaks as "default", so that user stays on here
my $users = do { local $/; open my $fh, '<', "$BcTest::ROOT/conf.example/redis-users.conf" or die; <$fh> };
like($users, qr/^user default off$/m, 'the documented file turns the default user off');
$users =~ s/^user default off$/user default on nopass ~* &* +\@all/m;
$users =~ s/\@(\w+)_PASSWORD\@/$pw{$1}/g;
my $conf = $t->write_file('redis-users.conf', $users, 0600);
$t->start_redis(conf => $conf);
$t->write_file("$_.pw", "$pw{$_}\n", 0600) for keys %pw;
my $d = $t->dir;

# nginx -t: a user needs its password
{
    my ($rc, $out) = $t->nginx_test(<<'CONF');
    bitcache_redis 127.0.0.1:6379 user=bitcache-nginx;
CONF
    isnt($rc, 0, 'nginx -t refuses user= without password=');
    like($out, qr/"bitcache_redis": "user=bitcache-nginx" needs password= in \S+test\.conf:\d+/,
         'names the directive, file and line');
}

$t->start_node;
$t->fund_wallet;
my $book = $t->make_file('files/book.pdf', 100_000);
my $http = $t->selling_http(<<'LOC');
        location /files/ {
            bitcache on;
            bitcache_confirmations 1;
            bitcache_max_downloads 3;
        }
LOC
$http =~ s/(bitcache_redis %%REDIS%% timeout=2s)/$1 user=bitcache-nginx password=$pw{NGINX}/ or die;
$t->start_nginx($http);
$t->start_watcher(args => ['--redis-user', 'bitcache-watch',
                           '--redis-password-file', "$d/WATCH.pw"]);

# the purchase
my $inv = $t->new_invoice('/files/book.pdf');
like($inv->{address}, qr/^bcrt1q/, 'invoice created by nginx as bitcache-nginx');
$t->wallet_rpc('sendtoaddress', $inv->{address}, 0.00012345);
ok(BcTest::wait_until(sub { ($t->invoice_status($inv->{id})->{state} // '') eq 'seen' }, 20),
   'the watcher (bitcache-watch) saw the payment') or diag $t->watcher_log;
$t->mine(1);
my $s = BcTest::wait_until(sub { my $s = $t->invoice_status($inv->{id}); $s->{token} ? $s : undef }, 20);
ok($s, 'paid: a token minted') or diag $t->watcher_log . $t->error_log;
my $tok = $s ? $s->{token} : 'none';
my $r = $t->get("/files/book.pdf?bitcache_token=$tok");
is($r->{status}, 200, 'the token downloads');
ok($r->{content} eq $book, 'the exact bytes');

# the admin CLI as bitcache-admin
my @admin = ('--redis-user', 'bitcache-admin', '--redis-password-file', "$d/ADMIN.pw");
my $granted = $t->grant('/files/book.pdf', '--uses', 0, @admin);
is($t->get("/files/book.pdf?bitcache_token=$granted")->{status}, 200,
   'bitcache grant --redis-user bitcache-admin: its token downloads');

# nothing was refused to any of the three users on the way
my $acl_log = $t->redis('ACL', 'LOG');
is(scalar @$acl_log, 0, 'ACL LOG: no command or key refused')
    or diag explain $acl_log;
like($t->watcher_log, qr/connected to redis/, 'the watcher connected');

# a user without a command: 503, a line naming the user, then recovery
$t->redis('ACL', 'SETUSER', 'bitcache-nginx', '-@all', '+ping', '+select');
$r = $t->get("/files/book.pdf?bitcache_token=$granted");
is($r->{status}, 503, 'a user lacking the commands: 503');
is($r->{headers}{'retry-after'}, 2, 'with Retry-After');
ok($r->{content} ne $book, 'not the file');
like($t->error_log, qr/bitcache: redis \S+: user "bitcache-nginx" is not allowed: NOPERM/,
     'error.log names the user that lacks a command');
$t->redis('ACL', 'SETUSER', 'bitcache-nginx', '+eval', '+evalsha', '+multi', '+exec',
          '+get', '+set', '+del', '+hget', '+hgetall', '+hmget', '+hset', '+hsetnx',
          '+hdel', '+hexists', '+hincrby', '+hkeys', '+expireat', '+exists', '+type',
          '+incr', '+lrange', '+llen', '+rpush', '+zadd', '+zrem', '+zrangebyscore');
is($t->get("/files/book.pdf?bitcache_token=$granted")->{status}, 200,
   'the ACL fixed: served again, no reload');

# a wrong password: nginx drops the connection, 503, names the user only
$t->redis('ACL', 'SETUSER', 'bitcache-nginx', 'resetpass', '>another-password');
$t->redis('CLIENT', 'KILL', 'USER', 'bitcache-nginx');
ok(BcTest::wait_until(sub { $t->get("/files/book.pdf?bitcache_token=$granted")->{status} == 503 }, 5),
   'a refused password: 503');
ok(BcTest::wait_until(sub { $t->error_log =~ /AUTH as user "bitcache-nginx" failed: WRONGPASS/ }, 5),
   'error.log: AUTH as user "bitcache-nginx" failed');
my $gr = $t->get("/files/book.pdf?bitcache_token=$granted");
is($gr->{status}, 503, 'still 503 while the password is refused (never served as "default")');
$t->redis('ACL', 'SETUSER', 'bitcache-nginx', 'resetpass', ">$pw{NGINX}");
ok(BcTest::wait_until(sub { $t->get("/files/book.pdf?bitcache_token=$granted")->{status} == 200 }, 10),
   'the password restored: served again without a reload (reconnected)');

# the CLI and the watcher with a wrong password: refused, the user named
$t->write_file('bad.pw', "not-the-password\n", 0600);
my ($rc, $out, $err) = $t->cli('grant', '--secret', "$d/secret", '--redis', $t->redis_addr,
                               '--redis-user', 'bitcache-admin', '--redis-password-file', "$d/bad.pw",
                               '/files/book.pdf');
isnt($rc, 0, 'grant with a wrong password fails');
like($err, qr/redis AUTH as user "bitcache-admin" failed: WRONGPASS/, 'the CLI names the user');
($rc, $out, $err) = $t->cli('grant', '--secret', "$d/secret", '--redis', $t->redis_addr,
                            '--redis-user', 'bitcache-admin', '/files/book.pdf');
isnt($rc, 0, 'grant with a user and no password fails');
like($err, qr/--redis-user bitcache-admin needs a password/, 'says a user needs a password');
$t->start_watcher(name => 'badwatch', args => ['--redis-user', 'bitcache-watch',
                                               '--redis-password-file', "$d/bad.pw"]);
ok(BcTest::wait_until(sub { $t->watcher_log('badwatch') =~ /AUTH as user "bitcache-watch" failed/ }, 10),
   'the watcher names its user when refused') or diag $t->watcher_log('badwatch');
$t->stop_watcher('badwatch');

# no password anywhere in the logs
my $logs = $t->error_log . $t->watcher_log . $t->watcher_log('badwatch') . $err;
for my $k (sort keys %pw) {
    unlike($logs, qr/\Q$pw{$k}\E/, "the $k password is in no log");
}
unlike($logs, qr/not-the-password|another-password/, 'nor the wrong ones');

$t->stop_watcher;
$t->check_log_clean;

# a server that does not know AUTH (renamed away here; a proxy or a rogue
# server alike) quotes its arguments in its error: of an AUTH error only
# the first word is logged, never the password it quotes
{
    my $e = BcTest->new;
    $e->start_redis(extra => ['--rename-command', 'AUTH', '']);
    my $echo = 'pw-echoed-' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 16);
    $e->write_file('echo.pw', "$echo\n", 0600);
    my ($rc2, undef, $err2) = $e->cli('grant', '--secret', $e->dir . '/secret',
                                      '--redis', $e->redis_addr,
                                      '--redis-password-file', $e->dir . '/echo.pw', '/files/x');
    isnt($rc2, 0, 'a server without AUTH: the CLI is refused');
    like($err2, qr/redis AUTH as user "default" failed: ERR\n/, '... and says so by the first word');
    unlike($err2, qr/\Q$echo\E/, '... never the password the server quotes');
    my $h = $e->default_http;
    $h =~ s/(bitcache_redis %%REDIS%% timeout=\S+?);/$1 password=$echo;/ or die 'no bitcache_redis';
    $e->make_file('files/x', 100);
    $e->start_nginx($h);
    my $tok = mint_token($e->secret_bytes, "\x05" x 16, time + 3600, 1, '/files/x');
    is($e->get("/files/x?bitcache_token=$tok")->{status}, 503, 'nginx: a token cannot be counted: 503');
    ok(BcTest::wait_until(sub { $e->error_log =~ /AUTH as user "default" failed: ERR$/m }, 5),
       'nginx logs the first word') or diag $e->error_log;
    unlike($e->error_log, qr/\Q$echo\E/, '... never the password the server quotes');
}
done_testing;
