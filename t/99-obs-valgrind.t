#!/usr/bin/perl
# The log variables and the metrics under valgrind: nginx in one process
# (master_process off) under memcheck, a log_format with every variable,
# requests of each kind (paid, no token, used up, forged, an invoice, a free
# copy, a key, Redis killed and back), and scrapes. No invalid read, write,
# free or use of uninitialised memory may be reported.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json encode_json);
use Time::HiRes qw(sleep);
use BcTest;

plan skip_all => 'valgrind not installed' unless `which valgrind` =~ /valgrind/;

my $t = BcTest->new;
$t->start_redis;
my $data = $t->make_file('files/doc.bin', 50_000);
$t->make_file('gifts/g.bin', 1_000);
$t->{http_port} = BcTest::free_port();
my (undef, $xonly) = $t->watcher_key;
my $http = <<"CONF";
    log_format bitcache '\$status \$bitcache_status \$bitcache_product '
                        '\$bitcache_token_id \$bitcache_invoice \$bitcache_bytes_left';
    bitcache_redis %%REDIS%% timeout=500ms;
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        access_log %%DIR%%/logs/bitcache.log bitcache;
        bitcache_secret %%DIR%%/secret;
        bitcache_network regtest;
        bitcache_watcher_key $xonly;
        bitcache_wallet "$BcTest::TEST_WALLET";
        bitcache_price 12345;
        location /files/ { bitcache on; bitcache_max_downloads 1; }
        location /gifts/ { bitcache on; bitcache_free_first 3; }
        location /bitcache/ { bitcache_api; }
        location = /metrics { bitcache_metrics; }
    }
CONF
my $conf = $t->write_file('nginx.conf', "master_process off;\ndaemon off;\n" . $t->nginx_conf($http));
$t->start_nginx_valgrind($conf);

my $ua = HTTP::Tiny->new(timeout => 30, max_redirect => 0, keep_alive => 0);
sub post_json {
    my ($path, $body) = @_;
    return $ua->request('POST', $t->url($path), {
        headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
        content => encode_json($body) });
}

my $tok = $t->grant('/files/doc.bin', '--uses', 1);
is($t->get('/metrics')->{status}, 200, 'scrape');
is($t->get('/files/doc.bin')->{status}, 402, 'no token');
is($t->get("/files/doc.bin?bitcache_token=$tok", Range => 'bytes=0-99')->{status}, 206, 'paid range');
is($t->get("/files/doc.bin?bitcache_token=$tok")->{status}, 402, 'used up');
is($t->get('/files/doc.bin?bitcache_token=AQ' . ('A' x 100))->{status}, 402, 'malformed');
my $offer = decode_json($t->get('/files/doc.bin', Accept => 'application/json')->{content})->{offer};
my $r = post_json('/bitcache/invoices', { offer => $offer });
is($r->{status}, 201, 'invoice');
my $inv = decode_json($r->{content})->{id};
is($t->get("/bitcache/invoices/$inv", Accept => 'application/json')->{status}, 200, 'invoice status');
is($ua->post_form($t->url('/bitcache/invoices'), { offer => "x$offer" })->{status}, 400, 'bad offer');
my $goffer = decode_json($t->get('/gifts/g.bin', Accept => 'application/json')->{content})->{offer};
is(post_json('/bitcache/free', { offer => $goffer })->{status}, 201, 'free copy');
$t->seal('files/doc.bin', $t->dir . '/doc.sealed', '/files/doc.bin', $t->url('/bitcache'));
my $ktok = $t->grant('/files/doc.bin', '--uses', 1);
is($t->get("/bitcache/keys/files/doc.bin?bitcache_token=$ktok")->{status}, 200, 'key');
$t->stop_redis('KILL');
is($t->get("/files/doc.bin?bitcache_token=$ktok")->{status}, 503, 'Redis killed: 503');
$t->start_redis;
my $ok = 0;
my $tok2 = $t->grant('/files/doc.bin', '--uses', 0);
for (1 .. 50) {
    if ($t->get("/files/doc.bin?bitcache_token=$tok2")->{status} == 200) { $ok = 1; last }
    sleep 0.2;
}
ok($ok, 'Redis back: works again');
$r = $t->get('/metrics');
is($r->{status}, 200, 'scrape again');
like($r->{content}, qr/^bitcache_free_copies_total 1$/m, 'the free copy counted');
like($r->{content}, qr/^bitcache_key_fetches_total 1$/m, 'the key counted');
my $log = do { local (@ARGV, $/) = $t->dir . '/logs/bitcache.log'; <> };
like($log, qr/^402 used_up /m, 'the log line of used up');
like($log, qr/^503 redis_error /m, 'the log line of Redis down');

$t->stop_nginx_valgrind;

$t->check_log_clean;
done_testing;
