#!/usr/bin/perl
# bitcache watch --metrics on the regtest node (bcoin): the exposition is
# read by the prometheus_client parser; scrape, pay an invoice (mempool),
# mine (paid), invalidate the block (a reorg), make the node's getblock fail
# through a relay while a block is mined (RPC errors, a lag in blocks and
# seconds), stop Redis (its errors), and after each step the numbers moved
# as the step should. Only GET /metrics answers; --metrics with a bad address
# is a usage error naming it.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use BcTest;

plan skip_all => 'python3-prometheus-client is not installed (scripts/deps.sh)'
    unless BcTest::have_prom_parser();

my $t = BcTest->new;
$t->start_redis;
$t->start_node;
$t->fund_wallet;
$t->make_file('files/book.pdf', 10_000);
$t->start_nginx($t->selling_http(<<'LOC'));
        location /files/ { bitcache on; bitcache_confirmations 1; }
LOC

# --- a bad address ------------------------------------------------------------

my @base = ('watch', '--rpc', $t->node_url, '--rpc-user', 'x', '--rpc-password',
            $BcTest::NODE_KEY, '--redis', $t->redis_addr, '--key', $t->watcher_keyfile,
            '--secret', $t->dir . '/secret', '--network', 'regtest');
my $busy = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0,
                                 Proto => 'tcp') or die;
$t->cli_refuses(
    [[@base, '--metrics', '127.0.0.1'], qr/--metrics: "127\.0\.0\.1" is not HOST:PORT/],
    [[@base, '--metrics', '127.0.0.1:70000'], qr/--metrics: .* is not HOST:PORT/],
    [[@base, '--metrics', 'localhost:9100'], qr/--metrics: .*localhost is not a numeric IP/],
    [[@base, '--metrics', '127.0.0.1:' . $busy->sockport],
     qr/--metrics: cannot listen on 127\.0\.0\.1 port \d+: Address already in use/],
);
close $busy;

# --- the watcher, through a relay that fails while $FAIL exists ---------------

my $FAIL = $t->dir . '/fail';
my $relay = $t->start_node_relay('relay', sub {
    my ($req, $status, $reply) = @_;
    # the node's height still answers: the watcher sees blocks it cannot read
    return (500, '{"result":null,"error":{"code":-1,"message":"made to fail"},"id":1}')
        if -e $FAIL && ($req->{method} // '') eq 'getblock';
    return ($status, $reply);
});
my $MPORT = BcTest::free_port();
$t->start_watcher(rpc => $relay, args => ['--metrics', "127.0.0.1:$MPORT"]);
BcTest::wait_port($MPORT, 1, 20) or BAIL_OUT('no metrics port: ' . $t->watcher_log);

my $ua = HTTP::Tiny->new(timeout => 10, keep_alive => 0);
sub scrape { my $r = $ua->get("http://127.0.0.1:$MPORT/metrics"); return ($r, BcTest::prom_parse($r->{content})) }
sub v {
    my ($m, $name, %l) = @_;
    my $labels = join ',', map { "$_=\"$l{$_}\"" } sort keys %l;
    return $m->{samples}{"$name\{$labels}"};
}
# scrapes until $cond->($m) holds (the watcher answers between rounds)
sub scrape_until {
    my ($cond, $secs) = @_;
    my $m;
    BcTest::wait_until(sub { (undef, $m) = scrape(); $cond->($m) }, $secs || 20);
    return $m;
}

my $height = $t->node_rpc('getblockcount');
my $m0 = scrape_until(sub { (v($_[0], 'bitcache_watch_tip_height') // -1) == $height });
my ($r0) = scrape();
is($r0->{status}, 200, 'GET /metrics: 200');
like($r0->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4}, 'text format 0.0.4');
is($m0->{rc}, 0, 'the prometheus_client parser reads it') or diag $m0->{out};
my %type = (tip_height => 'gauge', node_height => 'gauge', lag_blocks => 'gauge',
            lag_seconds => 'gauge', leader => 'gauge', invoices_open => 'gauge',
            invoices_settled => 'counter', payments => 'counter', reorgs => 'counter',
            reorg_blocks => 'counter', rpc_calls => 'counter', rpc_errors => 'counter',
            rpc_latency_seconds => 'histogram', redis_errors => 'counter');
for my $f (sort keys %type) {
    is_deeply($m0->{families}{"bitcache_watch_$f"}, [$type{$f}, 'help'],
              "bitcache_watch_$f: a $type{$f} with help");
}
is(v($m0, 'bitcache_watch_tip_height'), $height, "tip height: the node's $height");
is(v($m0, 'bitcache_watch_node_height'), $height, "node height: $height");
is(v($m0, 'bitcache_watch_lag_blocks'), 0, 'lag: 0 blocks');
is(v($m0, 'bitcache_watch_lag_seconds'), 0, 'lag: 0 s');
is(v($m0, 'bitcache_watch_leader'), 1, 'the leader');
cmp_ok(v($m0, 'bitcache_watch_rpc_calls_total'), '>', 0, 'RPC calls counted');
is(v($m0, 'bitcache_watch_rpc_latency_seconds_count'), v($m0, 'bitcache_watch_rpc_calls_total'),
   'one latency observation a call');
is(v($m0, 'bitcache_watch_rpc_errors_total'), 0, 'no RPC error yet');
is(v($m0, 'bitcache_watch_redis_errors_total'), 0, 'no Redis error');

# only GET /metrics
is($ua->get("http://127.0.0.1:$MPORT/other")->{status}, 404, 'another path: 404');
is($ua->get("http://127.0.0.1:$MPORT/metrics/x")->{status}, 404, '/metrics/x: 404');
is($ua->request('POST', "http://127.0.0.1:$MPORT/metrics")->{status}, 405, 'POST: 405');
{
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$MPORT", Timeout => 5) or die;
    print $s "\x16\x03\x01 not http\r\n\r\n";
    my $line = <$s> // '';
    like($line, qr{^HTTP/1\.1 400 }, 'not a request line: 400');
    # a client that says nothing holds the watcher 1 s at most
    my $quiet = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$MPORT", Timeout => 5) or die;
    my $t0 = time;
    my ($r) = scrape();
    is($r->{status}, 200, 'a scrape after a silent client answers');
    cmp_ok(time - $t0, '<', 3, 'within the silent client\'s 1 s and a round');
}

# --- a payment in the mempool ------------------------------------------------------

my $inv = $t->new_invoice('/files/book.pdf');
$t->send_sats($inv->{address}, 12_345);
my $m1 = scrape_until(sub { (v($_[0], 'bitcache_watch_payments_total', where => 'mempool') // 0) >= 1
                            && (v($_[0], 'bitcache_watch_invoices_open') // 0) >= 1 });
is(v($m1, 'bitcache_watch_payments_total', where => 'mempool'), 1, 'payments seen in the mempool: 1');
is(v($m1, 'bitcache_watch_payments_total', where => 'block'), 0, 'in a block: 0');
is(v($m1, 'bitcache_watch_invoices_open'), 1, 'open invoices: 1 (seen, not paid)');
is(v($m1, 'bitcache_watch_invoices_settled_total'), 0, 'settled: 0');
cmp_ok(v($m1, 'bitcache_watch_rpc_calls_total'), '>', v($m0, 'bitcache_watch_rpc_calls_total'),
       'more RPC calls');

# --- mined: paid -------------------------------------------------------------------

my ($blk) = @{ $t->mine(1) };
my $m2 = scrape_until(sub { (v($_[0], 'bitcache_watch_invoices_settled_total') // 0) >= 1
                            && (v($_[0], 'bitcache_watch_invoices_open') // 1) == 0 });
is($t->invoice($inv->{id})->{state}, 'paid', 'the invoice is paid');
is(v($m2, 'bitcache_watch_invoices_settled_total'), 1, 'settled: 1');
is(v($m2, 'bitcache_watch_invoices_open'), 0, 'open: 0');
is(v($m2, 'bitcache_watch_payments_total', where => 'block'), 1, 'payments seen in a block: 1');
is(v($m2, 'bitcache_watch_tip_height'), $height + 1, 'tip height: one more');
is(v($m2, 'bitcache_watch_lag_blocks'), 0, 'lag: 0 blocks');
is(v($m2, 'bitcache_watch_reorgs_total'), 0, 'no reorg yet');

# --- a reorg: the block invalidated -----------------------------------------------

$t->node_rpc('invalidateblock', $blk);
my $m3 = scrape_until(sub { (v($_[0], 'bitcache_watch_reorgs_total') // 0) >= 1 });
is(v($m3, 'bitcache_watch_reorgs_total'), 1, 'reorgs: 1');
is(v($m3, 'bitcache_watch_reorg_blocks_total'), 1, 'blocks rolled back: 1');
is(v($m3, 'bitcache_watch_tip_height'), $height, 'tip height: back by one');
is(v($m3, 'bitcache_watch_invoices_settled_total'), 1, 'settled stays a count of events: 1');
is($t->invoice($inv->{id})->{state}, 'new', 'the invoice is unpaid again (bcoin drops the transaction)');

# --- the node fails for a while ------------------------------------------------------

$t->write_file('fail', '');
$t->mine(1);
my $m4 = scrape_until(sub { (v($_[0], 'bitcache_watch_rpc_errors_total') // 0) >= 3
                            && (v($_[0], 'bitcache_watch_lag_seconds') // 0) >= 2 });
cmp_ok(v($m4, 'bitcache_watch_rpc_errors_total'), '>=', 3, 'RPC errors counted while getblock fails');
is(v($m4, 'bitcache_watch_node_height'), $height + 1, 'the node is a block ahead');
is(v($m4, 'bitcache_watch_tip_height'), $height, 'the watcher cannot read it');
is(v($m4, 'bitcache_watch_lag_blocks'), 1, 'lag: 1 block');
cmp_ok(v($m4, 'bitcache_watch_lag_seconds'), '>=', 2, 'lag in seconds grows');
cmp_ok(v($m4, 'bitcache_watch_lag_seconds'), '<', 60, 'from when it fell behind');
unlink $FAIL;
my $m5 = scrape_until(sub { (v($_[0], 'bitcache_watch_tip_height') // 0) == $height + 1 });
is(v($m5, 'bitcache_watch_lag_blocks'), 0, 'the node back: lag 0 blocks');
is(v($m5, 'bitcache_watch_lag_seconds'), 0, 'and 0 s');
$t->send_sats($inv->{address}, 12_345);    # the buyer pays again
BcTest::wait_until(sub { $t->invoice($inv->{id})->{state} eq 'seen' }, 20);
$t->mine(1);
$m5 = scrape_until(sub { (v($_[0], 'bitcache_watch_tip_height') // 0) == $height + 2
                         && (v($_[0], 'bitcache_watch_invoices_settled_total') // 0) == 2 });
is(v($m5, 'bitcache_watch_tip_height'), $height + 2, 'the next block processed');
is(v($m5, 'bitcache_watch_invoices_settled_total'), 2, 'paid again on the new branch: settled 2');
my $errs = v($m5, 'bitcache_watch_rpc_errors_total');
sleep 0.5;
my (undef, $m6) = scrape();
is(v($m6, 'bitcache_watch_rpc_errors_total'), $errs, 'no more RPC errors once the node answers');
is(v($m6, 'bitcache_watch_redis_errors_total'), 0, 'no Redis error in all that');
is($m6->{rc}, 0, 'the last scrape parses too');

# Redis goes away: counted, and the metrics still answer meanwhile
$t->stop_redis;
my $m7 = scrape_until(sub { (v($_[0], 'bitcache_watch_redis_errors_total') // 0) >= 2 });
cmp_ok(v($m7, 'bitcache_watch_redis_errors_total'), '>=', 2,
       'Redis down: the lost connection and the failed reconnects counted');
is($m7->{rc}, 0, 'the watcher answers scrapes while Redis is down');

like($t->watcher_log, qr/metrics on 127\.0\.0\.1:$MPORT/, 'the log says where the metrics are');
$t->stop_watcher;
$t->check_log_clean;
done_testing;
