#!/usr/bin/perl
# Second attack review of the wallet (docs/security.md): the per-worker
# purchase queue (ngx_http_bitcache_wallet_queue.c) under clients that go
# away, pipelined requests on one connection and Redis stopping
# mid-purchase; and the marks (rollback and fork detection) against a
# Redis writer who writes back a wallet state of the same seq.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use BcTest;
use POSIX ();

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x "$BcTest::TOOLS/wallet_fixture";

my $t = BcTest->new;
$t->start_redis;
$t->make_file("files/f$_.bin", 3000) for 1 .. 80;
$t->start_nginx($t->wallet_http(<<'LOC', price => 100), workers => 2);
        bitcache_wallets on;
        location /files/ { bitcache on; bitcache_wallet_autobuy on; }
LOC

my $w = $t->wallet_open;
my $code = $w->{code};
my ($WAL, $LED, $OWN) = map { "bitcache:$_:$w->{wallet}" } qw(wal wled wown);
$t->wallet_credit($w->{wallet}, 100_000);
is($t->wallet_balance($code), 100_000, 'credited 100000');
is($t->wallet_req('POST', '/wallet/settings', $code, 'max_auto_price=1000')->{status}, 200,
   'max_auto_price 1000');

sub log_count { my ($re) = @_; scalar grep { /$re/ } split /\n/, $t->error_log }
sub spent_matches_owned {
    my $bal = $t->wallet_balance($code);
    my $owned = scalar @{ $t->redis('HKEYS', $OWN) };
    my $len = $t->redis('LLEN', $LED);
    return (100_000 - $bal == 100 * $owned && $len == 1 + $owned, "bal $bal owned $owned ledger $len");
}

# ---- a buyer: many queued auto-buys of one wallet, half of the clients gone ----
# Each GET is queued behind the purchase in flight of its worker; the clients
# that close at once leave requests in the queue (and one in flight) whose
# connection is gone. Nothing may crash, the queue may not stay stuck, and
# every sat spent is a product owned.
{
    my @s;
    for my $i (1 .. 24) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port})
            or die "connect: $!";
        print $s "GET /files/f$i.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bitcache $code\r\n"
               . "Connection: close\r\n\r\n";
        push @s, $s;
    }
    close $s[$_] for grep { $_ % 2 } 0 .. $#s;            # half go away at once
    my $ok = 0;
    for my $i (grep { !($_ % 2) } 0 .. $#s) {
        local $/;
        my $resp = readline($s[$i]) // '';
        $ok++ if $resp =~ m{^HTTP/1\.1 200};
        close $s[$i];
    }
    is($ok, 12, 'a buyer: 24 queued auto-buys, 12 clients gone: the 12 others get their file');
    sleep 1;
    my $r = $t->get('/files/f30.bin', Authorization => "Bitcache $code");
    is($r->{status}, 200, '... the queue is not stuck: the next auto-buy is served');
    my ($okm, $why) = spent_matches_owned();
    ok($okm, "... every sat spent is a product owned ($why)");
    is(log_count(qr/exited on signal|\[alert\]|\[emerg\]/), 0, '... no worker crashed');
}

# ---- a buyer: pipelined auto-buys of one wallet on one keep-alive connection ----
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port}) or die;
    my $req = '';
    for my $i (31 .. 36) {
        $req .= "GET /files/f$i.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bitcache $code\r\n"
              . ($i == 36 ? "Connection: close\r\n" : '') . "\r\n";
    }
    print $s $req;
    my $resp = do { local $/; readline($s) // '' };
    close $s;
    my $n = () = $resp =~ m{HTTP/1\.1 200}g;
    is($n, 6, 'a buyer: 6 pipelined auto-buys on one connection: 6 answers 200');
    my ($okm, $why) = spent_matches_owned();
    ok($okm, "... every sat spent is a product owned ($why)");
}

# ---- Redis stopped with purchases in flight and queued, then back ---------------
{
    $t->redis_signal('STOP');
    my @s;
    for my $i (40 .. 45) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port}) or die;
        print $s "GET /files/f$i.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bitcache $code\r\n"
               . "Connection: close\r\n\r\n";
        push @s, $s;
    }
    close $s[0];
    my @st;
    for my $s (@s[1 .. $#s]) {
        local $/;
        my $resp = readline($s) // '';
        push @st, $resp =~ m{^HTTP/1\.1 (\d{3})} ? $1 : 0;
        close $s;
    }
    $t->redis_signal('CONT');
    ok(!grep({ $_ != 503 && $_ != 200 } @st), "Redis stuck mid-purchase: 503 (or 200), never anything else (@st)");
    sleep 1;
    my $r = $t->get('/files/f46.bin', Authorization => "Bitcache $code");
    is($r->{status}, 200, '... Redis back: the wallet buys again (its queue not stuck)');
    my ($okm, $why) = spent_matches_owned();
    ok($okm, "... every sat spent is a product owned ($why)");
    is(log_count(qr/exited on signal|\[alert\]/), 0, '... no worker crashed');
}

# ---- HTTP/2: one connection, many streams of one wallet; the connection dropped --
# with streams queued and one in flight (Redis stopped meanwhile)
SKIP: {
    skip 'no node', 6 unless `node -v 2>/dev/null` =~ /^v\d/;
    my $h2 = BcTest::free_port();
    my $http = $t->wallet_http(<<'LOC', price => 100);
        bitcache_wallets on;
        location /files/ { bitcache on; bitcache_wallet_autobuy on; }
LOC
    my ($srv) = $http =~ /(    server \{.*\n    \})/s;
    $srv =~ s/listen 127\.0\.0\.1:%%PORT%%;/listen 127.0.0.1:$h2 http2;/ or die;
    $http .= "$srv\n";
    $t->stop_nginx;
    $t->start_nginx($http, workers => 2);
    my $node = "node $BcTest::ROOT/t/h2-buys.js $h2 'Bitcache $code'";
    my @paths = ((map { "/files/f$_.bin" } 1 .. 6), (map { "/files/f$_.bin" } 52 .. 55));
    my @codes = split ' ', `$node 0 0 @paths`;
    is(scalar(grep { $_ eq '200' } @codes), 10, "HTTP/2: 10 auto-buys as streams of one connection: all 200 (@codes)");
    my @reset = map { "/files/f$_.bin" } 61 .. 70;
    @codes = split ' ', `$node 2 0 @reset`;
    ok(!grep({ $_ != 0 && $_ != 200 } @codes), "HTTP/2: every other stream reset (RST_STREAM) while queued: the others 200 (@codes)");

    $t->redis_signal('STOP');
    my @gone = map { "/files/f$_.bin" } 56 .. 59;
    system("$node 0 500 @gone >/dev/null 2>&1");
    sleep 1;
    $t->redis_signal('CONT');
    sleep 3;
    my $r = $t->get('/files/f60.bin', Authorization => "Bitcache $code");
    is($r->{status}, 200, 'HTTP/2 connection gone with streams queued, Redis stuck: the wallet buys again after');
    my ($okm, $why) = spent_matches_owned();
    ok($okm, "... every sat spent is a product owned ($why)");
    is(log_count(qr/exited on signal|\[alert\]/), 0, '... no worker crashed');
    is(`$node 0 0 /files/f57.bin`, "200\n", '... and over HTTP/2 too');
}

# ---- a Redis writer: the state from before the owner lowered max_auto_price ------
# POST /wallet/settings writes a new state of the same seq and head (no
# ledger entry): the ledger check passes and the mark (seq, head) cannot
# tell the two apart. Written back, the old limit auto-buys again.
{
    my %high = @{ $t->redis('HGETALL', $WAL) };
    is($t->wallet_req('POST', '/wallet/settings', $code, 'max_auto_price=0')->{status}, 200,
       'the owner sets max_auto_price 0 (no more auto-buys)');
    my $r = $t->get('/files/f50.bin', Authorization => "Bitcache $code");
    is($r->{status}, 402, '... an auto-buy GET: 402');
    $t->redis('DEL', $WAL);
    $t->redis('HSET', $WAL, %high);
    $r = $t->get('/files/f51.bin', Authorization => "Bitcache $code");
    TODO: {
        local $TODO = 'a settings change keeps seq and head: the mark cannot refuse the older state';
        isnt($r->{status}, 200,
             'a Redis writer writes back the state of max_auto_price 1000: the auto-buy is refused');
        is(scalar grep({ $_ eq '/files/f51.bin' } @{ $t->redis('HKEYS', $OWN) }), 0,
           '... nothing bought against the owner\'s setting');
    }
}

# ---- the queue's lifetimes under memcheck: streams reset while queued, a
# connection dropped with streams queued, Redis stuck with purchases in
# flight and queued (its call times out), HTTP/1 clients gone meanwhile ----
SKIP: {
    skip 'valgrind or node not installed', 3
        unless `which valgrind` =~ /valgrind/ && `node -v 2>/dev/null` =~ /^v\d/;
    $t->stop_nginx;
    my $h2 = BcTest::free_port();
    my $http = $t->wallet_http(<<'LOC', price => 100);
        bitcache_wallets on;
        location /files/ { bitcache on; bitcache_wallet_autobuy on; }
LOC
    my ($srv) = $http =~ /(    server \{.*\n    \})/s;
    $srv =~ s/listen 127\.0\.0\.1:%%PORT%%;/listen 127.0.0.1:$h2 http2;/ or die;
    $http .= "$srv\n";
    my $conf = $t->write_file('nginx-vg.conf', "master_process off;\ndaemon off;\n" . $t->nginx_conf($http));
    $t->start_nginx_valgrind($conf, origins => 0, port => $h2);
    my $node = "node $BcTest::ROOT/t/h2-buys.js $h2 'Bitcache $code'";
    my @p = map { "/files/f$_.bin" } 71 .. 76;
    my $out = `$node 2 0 @p`;                                   # reset while queued
    $t->redis_signal('STOP');
    @p = map { "/files/f$_.bin" } 77 .. 80;
    system("$node 3 700 @p >/dev/null 2>&1");                   # dropped, Redis stuck
    my @s;
    for my $i (25 .. 28) {
        my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port}) or die;
        print $c "GET /files/f$i.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bitcache $code\r\n\r\n";
        push @s, $c;
    }
    close $_ for @s[0, 1];
    sleep 5;                                                     # the calls time out (2s)
    $t->redis_signal('CONT');
    close $_ for @s[2, 3];
    sleep 2;
    my $r = $t->get('/files/f29.bin', Authorization => "Bitcache $code");
    is($r->{status}, 200, '... the wallet buys again after all that');
    $t->stop_nginx_valgrind;
}

# ---- a Redis writer and a buyer: the reread's race ------------------------------
# A read below the mark is made again once; the read again was believed if
# not below the mark seen *before* it, even if the mark rose meanwhile. A
# Redis writer answers purchase X's first read with an older state (below
# the mark: read again) while the buyer's purchase Y of c commits in the
# same worker (the mark rises past the state of before Y); the writer puts
# that state and its ledger back and answers X's read again with it: X
# bought d from the balance before c, c was had for free.
{
    $t->stop_nginx;
    my $t2 = BcTest->new;
    $t2->start_redis;
    $t2->make_file("files/$_.bin", 2000) for qw(a c d);
    my ($w2, $WAL2, $LED2, $wid);
    my %flag = (d => 0, c_ok => 0);
    my (%S1, %S2, @L2);
    my $resp_state = sub {
        my ($st) = @_;
        my @kv = %$st;
        my $r = "*2\r\n*" . @kv . "\r\n";
        $r .= '$' . length($_) . "\r\n$_\r\n" for @kv;
        return $r . "\$-1\r\n";
    };
    my $hget = '';
    my $port = $t2->start_redis_proxy('proxy', sub {
        my ($cmd, $reply) = @_;
        my $name = uc($cmd->[0] // '');
        if ($name eq 'HGET' && ($cmd->[1] // '') =~ /wown:(\w+)/) { $hget = $cmd->[2]; $wid = $1; }
        if ($name eq 'EXEC' && $hget eq '/files/c.bin' && -e "$t2->{dir}/go") {
            select undef, undef, undef, 0.5;            # Y's read: slow
        }
        if ($name eq 'EXEC' && $hget eq '/files/d.bin' && -e "$t2->{dir}/go") {
            $flag{d}++;
            my %s = do { open my $fh, '<', "$t2->{dir}/S" . ($flag{d} == 1 ? 1 : 2) or die; map { chomp; split / /, $_, 2 } <$fh> };
            return $resp_state->(\%s) if $flag{d} <= 2;
        }
        if (($name eq 'EVALSHA' || $name eq 'EVAL') && ($cmd->[26] // '') eq '/files/c.bin'
            && $reply =~ /\bok\r\n/ && -e "$t2->{dir}/go") {
            # Y committed: the writer puts the state and ledger of before it back
            open my $fh, '<', "$t2->{dir}/S2" or die;
            my %s = map { chomp; split / /, $_, 2 } <$fh>;
            $t2->redis('DEL', "bitcache:wal:$wid"); $t2->redis('HSET', "bitcache:wal:$wid", %s);
            open $fh, '<', "$t2->{dir}/L2" or die;
            my @l = map { chomp; pack 'H*', $_ } <$fh>;
            $t2->redis('DEL', "bitcache:wled:$wid"); $t2->redis('RPUSH', "bitcache:wled:$wid", @l);
        }
        $hget = '' if $name eq 'EXEC';
        return $reply;
    });
    my $http = $t2->wallet_http('location /files/ { bitcache on; }', price => 100);
    $http =~ s/bitcache_redis %%REDIS%%/bitcache_redis 127.0.0.1:$port/ or die;
    $t2->start_nginx($http);
    $w2 = $t2->wallet_open;
    ($WAL2, $LED2) = map { "bitcache:$_:$w2->{wallet}" } qw(wal wled);
    $t2->wallet_credit($w2->{wallet}, 200);
    is($t2->wallet_balance($w2->{code}), 200, 'the reread race: credited 200 (seq 1)');
    my $save = sub {
        my ($n) = @_;
        my %st = @{ $t2->redis('HGETALL', $WAL2) };
        open my $fh, '>', "$t2->{dir}/S$n" or die;
        print $fh "$_ $st{$_}\n" for grep { $_ ne 'frozen' } keys %st;
        close $fh;
        open $fh, '>', "$t2->{dir}/L$n" or die;
        print $fh unpack('H*', $_), "\n" for @{ $t2->redis('LRANGE', $LED2, 0, -1) };
        close $fh;
    };
    $save->(1);
    my %off = map { $_ => $t2->offer_of("/files/$_.bin") } qw(a c d);
    is($t2->wallet_req('POST', '/wallet/buy', $w2->{code}, { offer => $off{a} })->{status}, 200, '... bought a (seq 2: the mark)');
    $save->(2);
    open my $go, '>', "$t2->{dir}/go" or die; close $go;
    my %res;
    my @kids;
    for my $p (qw(c d)) {
        pipe(my $rd, my $wr) or die;
        my $k = fork // die;
        if (!$k) {
            close $rd;
            my $r = $t2->wallet_req('POST', '/wallet/buy', $w2->{code}, { offer => $off{$p} });
            print $wr $r->{status};
            close $wr;
            $t2->{owner} = 0;
            POSIX::_exit(0);
        }
        close $wr;
        push @kids, [$p, $k, $rd];
        select undef, undef, undef, 0.15;
    }
    for (@kids) { my ($p, $k, $rd) = @$_; waitpid $k, 0; $res{$p} = <$rd> // 0; }
    unlink "$t2->{dir}/go";
    is($res{c}, 200, '... the buyer bought c (Y)');
    isnt($res{d}, 200, '... X, written over the state of before c (put back; its read again believed while the mark rose): no token, 409');
    my $bal = $t2->redis('HGET', $WAL2, 'bal');
    ok(!($res{c} == 200 && $res{d} == 200),
       "... a, c and d are not all bought from 200 sats at 100 each: c not had for free (balance $bal)");
}

done_testing;
