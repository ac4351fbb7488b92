#!/usr/bin/perl
# Attack review of #14 (key rotation, Redis ACL users, Sentinel):
# a lying sentinel (a name, IPv6, garbage, a huge answer, a huge array,
# silence, a trickle, a Redis it controls); the worker never blocks and
# leaks no connection; the documented ACL users; the old secret after it
# is dropped.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use IO::Socket::INET;
use Digest::SHA ();
use BcTest;

my $t = BcTest->new;
my $d = $t->dir;
diag "dir $d" if $ENV{BC_KEEP};
my $npw = 'npw-' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 24);
my $rconf = $t->write_file('redis-users.conf', <<"CONF", 0600);
user default on nopass ~* &* +\@all
user bc-nginx on >$npw ~* &* +\@all
CONF
my $rport = $t->start_redis(conf => $rconf);

# a fake sentinel: each connection reads what to do from sent-mode
my $sport = BcTest::free_port();
my $cport = BcTest::free_port();    # a "Redis" the sentinel controls: records what it gets
my $script = $t->write_file('fake-sentinel.pl', <<'PL');
use strict; use IO::Socket::INET; use POSIX (); use Time::HiRes qw(sleep);
my ($port, $dir, $rport, $cport) = @ARGV;
$SIG{CHLD} = 'IGNORE';
my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 64, ReuseAddr => 1) or die $!;
while (1) {
    my $c = $l->accept or next;
    if (fork) { close $c; next }
    close $l;
    open my $fh, '<', "$dir/sent-mode"; my $mode = <$fh> // 'real'; chomp $mode; close $fh;
    my $buf = ''; $c->sysread($buf, 65536);
    open my $log, '>>', "$dir/sent-asked"; print $log "$mode\n"; close $log;
    my $a = sub { my @s = @_; '*' . @s . "\r\n" . join('', map { '$' . length($_) . "\r\n$_\r\n" } @s) };
    $c->autoflush(1);
    if ($mode eq 'real') { print $c $a->('127.0.0.1', $rport) }
    elsif ($mode eq 'name') { print $c $a->('localhost', $rport) }
    elsif ($mode eq 'ipv6') { print $c $a->('::1', $rport) }
    elsif ($mode eq 'port0') { print $c $a->('127.0.0.1', '0') }
    elsif ($mode eq 'portbig') { print $c $a->('127.0.0.1', '99999999999999999999') }
    elsif ($mode eq 'ctrl') { print $c $a->("127.0.0.1\nfake log line", $rport) }
    elsif ($mode eq 'three') { print $c $a->('127.0.0.1', $rport, 'x') }
    elsif ($mode eq 'errnl') { print $c "-ERR x\nfake log line\r\n" }
    elsif ($mode eq 'nil') { print $c "*-1\r\n" }
    elsif ($mode eq 'int') { print $c "*2\r\n:1\r\n:$rport\r\n" }
    elsif ($mode eq 'garbage') { print $c "HTTP/1.1 200 OK\r\n\r\n\0\0\xff\xfe" . ("x" x 1000) }
    elsif ($mode eq 'huge') { print $c "*2\r\n\$" . (64 << 20) . "\r\n"; my $chunk = 'A' x 65536;
                              for (1 .. 1024) { print $c $chunk or last } print $c "\r\n\$4\r\n6379\r\n" }
    elsif ($mode eq 'bigarray') { print $c "*2000000000\r\n"; sleep 5 }
    elsif ($mode eq 'deep') { print $c ("*1\r\n" x 100000) }
    elsif ($mode eq 'silent') { sleep 10 }
    elsif ($mode eq 'trickle') { for my $ch (split //, $a->('127.0.0.1', $rport)) { print $c $ch or last; sleep 0.2 } }
    elsif ($mode eq 'attacker') { print $c $a->('127.0.0.1', $cport) }
    sleep 1;
    POSIX::_exit(0);
}
PL
my $cscript = $t->write_file('capture.pl', <<'PL');
use strict; use IO::Socket::INET; use POSIX (); use Time::HiRes qw(sleep);
my ($port, $dir) = @ARGV;
$SIG{CHLD} = 'IGNORE';
my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 64, ReuseAddr => 1) or die $!;
while (1) {
    my $c = $l->accept or next;
    if (fork) { close $c; next }
    my $buf; $c->sysread($buf, 65536);
    open my $log, '>>', "$dir/captured"; print $log $buf; close $log;
    $c->syswrite("-ERR no\nfake log line\r\n" x 10);
    sleep 1; POSIX::_exit(0);
}
PL
$t->write_file('sent-mode', "real\n");
$t->spawn('fake-sentinel', $^X, $script, $sport, $d, $rport, $cport);
$t->spawn('capture', $^X, $cscript, $cport, $d);
BcTest::wait_port($sport, 1) or die 'fake sentinel';
BcTest::wait_port($cport, 1) or die 'capture';

my $data = $t->make_file('files/a.bin', 20_000);
my $plain = $t->make_file('free/plain.txt', 100);
my $http = $t->default_http;
$http =~ s/bitcache_redis %%REDIS%% timeout=500ms;/bitcache_redis sentinel=127.0.0.1:$sport master=bc user=bc-nginx password=$npw timeout=500ms;/
    or die;
$t->start_nginx($http, workers => 1);

my $tok = $t->grant('/files/a.bin', '--uses', 0);
my $fetch = sub { $t->get("/files/a.bin?bitcache_token=$tok") };
ok(BcTest::wait_until(sub { $fetch->()->{status} == 200 }, 10), 'the honest sentinel: served');

my ($wpid) = `pgrep -P $t->{nginx_pid}` =~ /(\d+)/;
my $fds = sub { my @f = glob("/proc/$wpid/fd/*"); scalar @f };
my $rss = sub { open my $fh, '<', "/proc/$wpid/status" or return 0; local $/; my $s = <$fh>; $s =~ /VmRSS:\s+(\d+)/ ? $1 : 0 };
my $fd0 = $fds->();

# each lie: a failure closed (503, never the file), the worker serving
# other requests meanwhile, then the honest answer serves again
for my $mode ($ENV{BC_MODES} ? split(/,/, $ENV{BC_MODES}) : qw(name ipv6 port0 portbig ctrl errnl three nil int garbage deep bigarray huge silent trickle)) {
    $t->write_file('sent-mode', "$mode\n");
    # drop the data connection: kill the worker's Redis client
    my $clients = BcTest->can('redis') ? $t->redis('CLIENT', 'KILL', 'USER', 'bc-nginx') : 0;
    my ($bad, %seen) = ('');
    my $t0 = time;
    my $maxplain = 0;
    for (1 .. 6) {
        my $r = $fetch->();
        $seen{ $r->{status} }++;
        $bad ||= "status $r->{status}" if $r->{status} != 503 && $r->{status} != 200;
        $bad ||= 'file bytes through a lying sentinel' if $r->{status} == 200;
        my $p0 = time;
        my $p = $t->get('/free/plain.txt');
        my $pt = time - $p0;
        $maxplain = $pt if $pt > $maxplain;
        $bad ||= "plain file: $p->{status}" if $p->{status} != 200;
        sleep 0.2;
    }
    ok(!$bad && $seen{503}, "sentinel answers '$mode': only 503, never the file") or diag "$bad @{[%seen]}";
    ok($maxplain < 1.5, sprintf "... the worker keeps serving (slowest other request %.2fs)", $maxplain);
    ok(kill(0, $wpid) && $t->error_log !~ /signal \d+|\[alert\]|\[emerg\]/, '... the worker is alive, no alert');
    $t->write_file('sent-mode', "real\n");
    # (the reconnect's backoff, up to 2 s, and a loaded machine)
    ok(BcTest::wait_until(sub { my $r = $fetch->(); $r->{status} == 200 && $r->{content} eq $data }, 20),
       '... served again once the sentinel tells the truth');
}
like($t->error_log, qr/names the primary "bc" by "localhost:\d+": not a numeric address/, 'a name is refused (no blocking getaddrinfo)');
like($t->error_log, qr/did not answer within 500ms/, 'silence: timed out');

ok(BcTest::wait_until(sub { $fds->() <= $fd0 + 1 }, 5), sprintf 'no connection leaked (%d fds before, %d after)', $fd0, $fds->());
my $rss1 = $rss->();
ok($rss1 < 200_000, "worker RSS after a 64 MiB answer and a 2e9-element array: ${rss1} kB");

# a sentinel that names a Redis it controls: the Redis password goes there
{
    unlink "$d/captured";
    $t->write_file('sent-mode', "attacker\n");
    $t->redis('CLIENT', 'KILL', 'USER', 'bc-nginx');
    my $r;
    for (1 .. 4) { $r = $fetch->(); sleep 0.3 }
    isnt($r->{status}, 200, 'a sentinel naming its own Redis: no file');
    my $cap = -e "$d/captured" ? do { local $/; open my $fh, '<', "$d/captured"; <$fh> } : '';
    local $TODO = 'Sentinel trust: nginx AUTHs with its Redis password to whatever address a sentinel names (docs/security.md)';
    unlike($cap, qr/\Q$npw\E/, 'the Redis password is not sent to an address the sentinel names');
}
$t->write_file('sent-mode', "real\n");
ok(BcTest::wait_until(sub { $fetch->()->{status} == 200 }, 10), 'served again');
like($t->error_log, qr/by "127\.0\.0\.1\\x0afake log line:\d+"/, 'a newline in the named address is logged as \x0a');
like($t->error_log, qr/AUTH as user "bc-nginx" failed: ERR$/m,
     'the named Redis\'s AUTH error: its first word only (the rest may quote the password)');
unlike($t->error_log, qr/\nfake log line/, 'no answer of a sentinel or of the Redis it names forges a log line');


# the CLI (and the watcher, which connects the same way) through the lying sentinel
for my $c (['name', qr/names the primary "bc" by "localhost": not a numeric address/],
           ['errnl', qr/does not know "bc": ERR x\\x0afake log line/],
           ['garbage', qr/no sentinel named the primary/],
           ['silent', qr/no sentinel named the primary/]) {
    $t->write_file('sent-mode', "$c->[0]\n");
    my $t0 = time;
    my ($rc, $out, $err) = $t->cli('grant', '--secret', "$d/secret", '--redis-sentinel', "127.0.0.1:$sport",
                                   '--redis-master', 'bc', '--redis-user', 'bc-nginx', '--redis-password', $npw,
                                   '/files/a.bin');
    isnt($rc, 0, "CLI, sentinel '$c->[0]': refused");
    like($err, $c->[1], '... saying why');
    unlike($err, qr/^fake log line/m, '... in no line of the sentinel\'s making');
    ok(time - $t0 < 5, sprintf '... within the timeout (%.1fs)', time - $t0);
}
$t->write_file('sent-mode', "real\n");
{
    my ($rc, $out, $err) = $t->cli('grant', '--secret', "$d/secret", '--redis-sentinel', "127.0.0.1:$sport",
                                   '--redis-master', 'bc', '--redis-user', 'bc-nginx', '--redis-password', $npw,
                                   '/files/a.bin');
    is($rc, 0, 'CLI: the honest sentinel, a grant') or diag $err;
}

# the documented ACL users (conf.example/redis-users.conf) on a Redis of their own
{
    my %pw = map { $_ => "pw-$_-" . join('', map { ('a' .. 'z')[rand 26] } 1 .. 20) } qw(NGINX WATCH ADMIN);
    my $users = do { local $/; open my $fh, '<', "$BcTest::ROOT/conf.example/redis-users.conf" or die; <$fh> };
    $users =~ s/\@(\w+)_PASSWORD\@/$pw{$1}/g;
    my $uconf = $t->write_file('acl-users.conf', $users, 0600);
    my $aport = BcTest::free_port();
    $t->spawn('acl-redis', 'redis-server', $uconf, '--port', $aport, '--bind', '127.0.0.1',
              '--save', '', '--appendonly', 'no', '--dir', $d);
    BcTest::wait_port($aport, 1) or die 'acl redis';
    my $refused = qr/^-(NOPERM|ERR .*(can't|not allowed|NOPERM|No permissions))/;
    # one connection: AUTH, then the command; the reply, or "ERR ..." for an error
    my $as = sub {
        my ($user, $pw, @cmd) = @_;
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $aport, Timeout => 5) or die;
        my $out = '';
        for my $c (defined $user ? (['AUTH', $user, $pw]) : (), \@cmd) {
            my $req = '*' . @$c . "\r\n" . join('', map { '$' . length($_) . "\r\n$_\r\n" } @$c);
            print $s $req;
            my $line = <$s> // 'none';
            if ($line =~ /^\$(\d+)/) { read($s, my $b, $1 + 2); $line .= $b }
            $out = $line;
        }
        return $out;
    };
    like($as->(undef, undef, 'SET', 'bitcache:x', 1), qr/^-NOAUTH/, 'ACL: no name, no entry ("default" is off)');
    like($as->('default', 'x', 'PING'), qr/^-(WRONGPASS|NOAUTH)/, 'ACL: "default" with any password: refused');
    my @n = ('bitcache-nginx', $pw{NGINX});
    like($as->(@n, 'SET', 'bitcache:x', 1), qr/^\+OK/, 'nginx user: writes under the prefix');
    for my $c (['FLUSHALL'], ['FLUSHDB'], ['CONFIG', 'SET', 'dir', '/tmp'], ['KEYS', '*'], ['SCAN', '0'],
               ['PUBLISH', 'bitcache:events', 'x'], ['SUBSCRIBE', 'bitcache:events'], ['SET', 'other:x', 1],
               ['GET', 'other:x'], ['DEBUG', 'SLEEP', '0'], ['SCRIPT', 'FLUSH'], ['CLIENT', 'LIST'],
               ['CLIENT', 'KILL', 'USER', 'bitcache-watch'], ['ACL', 'LIST'], ['SHUTDOWN'], ['MONITOR'],
               ['RENAME', 'bitcache:x', 'other:y'], ['MIGRATE', '127.0.0.1', 1, 'bitcache:x', 0, 10],
               ['EVAL', "return redis.call('FLUSHALL')", 0], ['EVAL', "return redis.call('GET', 'other:x')", 0],
               ['EVAL', "return redis.call('CONFIG', 'GET', 'requirepass')", 0],
               ['EVAL', "return redis.call('SET', KEYS[1], 1)", 1, 'other:y'],
               ['FUNCTION', 'FLUSH'], ['BGSAVE'], ['REPLICAOF', '127.0.0.1', '1'], ['SWAPDB', 0, 1],
               ['OBJECT', 'ENCODING', 'bitcache:x'], ['DUMP', 'bitcache:x']) {
        like($as->(@n, @$c), $refused,
             "nginx user: @$c refused");
    }
    my @w = ('bitcache-watch', $pw{WATCH});
    for my $c (['FLUSHALL'], ['CONFIG', 'GET', '*'], ['SET', 'other:x', 1], ['KEYS', '*'], ['ACL', 'LIST'],
               ['EVAL', "return redis.call('FLUSHALL')", 0], ['SCRIPT', 'FLUSH'], ['DEBUG', 'SLEEP', '0']) {
        like($as->(@w, @$c), $refused, "watcher user: @$c refused");
    }
    my @a = ('bitcache-admin', $pw{ADMIN});
    for my $c (['FLUSHALL'], ['CONFIG', 'SET', 'dir', '/tmp'], ['SET', 'other:x', 1], ['ACL', 'SETUSER', 'evil', 'on'],
               ['SHUTDOWN'], ['DEBUG', 'SLEEP', '0'], ['MONITOR'], ['CLIENT', 'KILL', 'USER', 'bitcache-nginx']) {
        like($as->(@a, @$c), $refused, "admin user: @$c refused");
    }
    # what the users may do that nginx/the watcher never need, recorded for the report
    my %may;
    for my $c (['bitcache-nginx', $pw{NGINX}, 'DEL', 'bitcache:x'], ['bitcache-nginx', $pw{NGINX}, 'SELECT', '5'],
               ['bitcache-watch', $pw{WATCH}, 'COPY', 'bitcache:a', 'bitcache:b', 'REPLACE']) {
        my $r = $as->(@$c);
        $may{"$c->[0] @$c[2..$#$c]"} = $r if $r !~ /^-/;
    }
    note "allowed: $_" for sort keys %may;
    my $log = do { local $/; open my $fh, '<', "$d/logs/acl-redis.log"; <$fh> // '' };
    unlike($log, qr/\Q$pw{NGINX}\E|\Q$pw{WATCH}\E|\Q$pw{ADMIN}\E/, 'no password in the Redis log');
}

# Rotation: whoever stole the OLD secret, during the grace period, re-MACs
# a paid invoice of theirs (cheap product, attested by the watcher; the
# attestation binds id, spk, received, conf, paid_at only) to name another
# product, a 136-year token_ttl and unlimited downloads. The status page
# mints its token: that token must die when the old secret is dropped,
# like everything else the old secret made.
{
    require ProtocolRef;
    my $t2 = BcTest->new;
    my $d2 = $t2->dir;
    $t2->start_redis;
    my $cheap = $t2->make_file('files/cheap.bin', 1000);
    my $dear = $t2->make_file('files/dear.bin', 2000);
    my $http2 = $t2->selling_http("location /files/ { bitcache on; }");
    $t2->start_nginx($http2);
    my $inv = $t2->new_invoice('/files/cheap.bin');
    $t2->pay_invoice($inv->{id}, 12345, 1);
    my $old = $t2->secret_bytes;
    my $workers = sub { map { /(\d+)/ ? $1 : () } `ps -o pid= --ppid $t2->{nginx_pid}` };
    my $reload = sub {
        my ($http) = @_;
        my @w = $workers->();
        $t2->write_file('nginx.conf', $t2->nginx_conf($http));
        kill 'HUP', $t2->{nginx_pid};
        BcTest::wait_until(sub { !grep { kill 0, $_ } @w }, 20) or die 'reload';
    };
    rename "$d2/secret", "$d2/secret.old" or die;
    $t2->write_file('secret', scalar `$BcTest::CLI secret`, 0600);
    (my $grace = $http2) =~ s{bitcache_secret \S+;}{bitcache_secret %%DIR%%/secret %%DIR%%/secret.old;} or die;
    $reload->($grace);
    my $honest = $t2->invoice_status($inv->{id})->{token};
    ok($honest, 'grace: the invoice paid before the rotation gives its token') or diag explain $t2->invoice_status($inv->{id});
    is($t2->get("/files/cheap.bin?bitcache_token=$honest")->{status}, 200, '... which downloads');

    # the thief's forgery, under the old secret
    my $key = "bitcache:inv:$inv->{id}";
    my %f = @{ $t2->redis('HGETALL', $key) };
    my ($dearprod) = $f{product} =~ m{^(.*)cheap\.bin$} ? ("$1dear.bin") : die "product $f{product}";
    my %i = (%f, id => pack('H*', $inv->{id}), spk => pack('H*', $f{spk}), claim_hash => pack('H*', $f{claim}),
             product => $dearprod, token_ttl => 4294967295, max_downloads => 0);
    my $mac = unpack 'H*', ProtocolRef::invoice_record_mac(ProtocolRef::keys_of($old), \%i);
    $t2->redis('HSET', $key, 'product', $dearprod, 'token_ttl', 4294967295, 'max_downloads', 0, 'mac', $mac);
    my $st = $t2->invoice_status($inv->{id});
    my $forged = $st->{token};
    note "grace: the forged record gives " . ($forged ? 'a token' : 'nothing');
    $reload->($http2);    # step 8: the old secret dropped
    is($t2->get("/files/cheap.bin?bitcache_token=$honest")->{status}, 402,
       'after the drop: the honest token minted from an old-secret invoice is refused (step 7 waited it out)');
    if ($forged) {
        isnt($t2->get("/files/dear.bin?bitcache_token=$forged")->{status}, 200,
             'after the drop: a token minted from an invoice record only the OLD secret verifies does not download');
    } else {
        pass('the forged record gave no token');
    }
    is($t2->invoice_status($inv->{id})->{state}, 'invalid', 'after the drop: the forged invoice is invalid');

    # the same with an offer: the thief re-MACs the 402 page's offer under the
    # old secret (a 136-year token_ttl, unlimited downloads) while the old
    # secret is listed; the invoice made from it is paid; after the drop
    $reload->($grace);
    my $real = $t2->offer_of('/files/dear.bin');
    require MIME::Base64;
    my $raw = MIME::Base64::decode_base64url($real);
    my $body = substr($raw, 0, -32);
    my @h = unpack('C Q> Q> Q> C N N N C N N', $body);
    my $rest = substr($body, 1 + 8 * 3 + 1 + 4 * 3 + 1 + 4 * 2);
    @h[6, 7] = (4294967295, 0);
    my $fbody = pack('C Q> Q> Q> C N N N C N N', @h) . $rest;
    my $fake = MIME::Base64::encode_base64url($fbody . Digest::SHA::hmac_sha256("offer\0" . $fbody,
                                              ProtocolRef::keys_of($old)->{invoice}));
    my $r = $t2->post_invoice($fake);
    if ($r->{status} == 201) {
        $t2->pay_invoice($r->{json}{id}, $r->{json}{amount_sats}, 1);
        $reload->($http2);
        my $tok = $t2->invoice_status($r->{json}{id})->{token} // '';
        isnt($t2->get("/files/dear.bin?bitcache_token=$tok")->{status}, 200,
             'after the drop: an invoice made from an offer only the old secret verifies gives no token that downloads');
    } else {
        pass("the forged offer is refused ($r->{status})");
    }
}

# Rotation: the OLD secret's thief writes a wallet state of theirs with a
# made-up balance under the old secret during the grace period; the next
# purchase signs the state again under the new secret (docs/operations.md
# step 6) without checking that it adds up, so the balance outlives the drop.
{
    my $t3 = BcTest->new;
    my $d3 = $t3->dir;
    $t3->start_redis;
    $t3->make_file("files/$_.bin", 1000) for qw(a b);
    my $http3 = $t3->wallet_http("location /files/ { bitcache on; }");
    $t3->start_nginx($http3);
    my $w = $t3->wallet_open;
    $t3->wallet_credit($w->{wallet}, 20_000);
    my %st = @{ $t3->redis('HGETALL', "bitcache:wal:$w->{wallet}") };
    my %forged = $t3->wallet_state($w->{wallet}, net => $st{net}, created => $st{created}, seq => $st{seq},
                                   bal => 50_000_000, head => $st{head}, auto => $st{auto});
    my $workers = sub { map { /(\d+)/ ? $1 : () } `ps -o pid= --ppid $t3->{nginx_pid}` };
    my $reload = sub {
        my @w = $workers->();
        $t3->write_file('nginx.conf', $t3->nginx_conf($_[0]));
        kill 'HUP', $t3->{nginx_pid};
        BcTest::wait_until(sub { !grep { kill 0, $_ } @w }, 20) or die 'reload';
    };
    rename "$d3/secret", "$d3/secret.old" or die;
    $t3->write_file('secret', scalar `$BcTest::CLI secret`, 0600);
    (my $grace = $http3) =~ s{bitcache_secret \S+;}{bitcache_secret %%DIR%%/secret %%DIR%%/secret.old;} or die;
    $reload->($grace);
    $t3->redis('HSET', "bitcache:wal:$w->{wallet}", %forged);
    my $r = $t3->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $t3->offer_of('/files/a.bin') });
    note "grace: a purchase from the forged state: $r->{status} " . ($r->{json}{state} // '');
    $reload->($http3);
    $r = $t3->wallet_req('GET', '/wallet', $w->{code});
    local $TODO = 'a wallet state only the old secret verifies is signed again by a purchase without an audit';
    ok(!($r->{status} == 200 && ($r->{json}{balance_sats} // 0) > 20_000),
       'after the drop: no balance made up under the old secret survives') or diag "$r->{status} $r->{content}";
}

done_testing;
