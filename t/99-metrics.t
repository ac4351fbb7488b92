#!/usr/bin/perl
# bitcache_metrics on real nginx (2 workers, connections spread over both by
# reuseport) and redis-server: scrape, make requests, scrape again, and each
# counter moved exactly as this test's requests should; the exposition is
# read by the prometheus_client library's parser; a reload keeps the
# counters; the directive outside a location fails nginx -t.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json encode_json);
use Time::HiRes qw(sleep time);
use BcTest;

plan skip_all => 'python3-prometheus-client is not installed (scripts/deps.sh)'
    unless BcTest::have_prom_parser();

my $t = BcTest->new;
$t->start_redis;
my $SIZE = 20_000;
$t->make_file('files/book.pdf', $SIZE);
$t->make_file('gifts/g.bin', 1_000);
my (undef, $xonly) = $t->watcher_key;

# nginx talks to Redis through a proxy that writes down each command it
# answered (Redis's own statistics count the commands that scripts run too)
my $CMDS = $t->dir . '/commands';
my $proxy = $t->start_redis_proxy('proxy', sub {
    my ($cmd, $reply) = @_;
    open my $fh, '>>', $CMDS or die;
    printf $fh "%s %s\n", uc($cmd->[0] // '?'), substr($reply, 0, 1) eq '-' ? 'error' : 'ok';
    close $fh;
    return $reply;
});

# commands nginx sent and errors it was answered, but its connection's own
sub commands {
    open my $fh, '<', $CMDS or return (0, 0);
    my ($n, $err) = (0, 0);
    while (<$fh>) {
        next if /^(AUTH|SELECT|PING) /;
        $n++;
        $err++ if / error$/;
    }
    return ($n, $err);
}

my $http = <<"CONF";
    log_format w '\$pid \$status \$bitcache_status';
    bitcache_redis 127.0.0.1:$proxy timeout=2s;
    server {
        listen 127.0.0.1:%%PORT%% reuseport;
        root %%DIR%%/html;
        access_log %%DIR%%/logs/workers.log w;
        bitcache_secret %%DIR%%/secret;
        bitcache_network regtest;
        bitcache_watcher_key $xonly;
        bitcache_wallet "$BcTest::TEST_WALLET";
        bitcache_price 12345;
        bitcache_token_ttl 1h;
        location /files/ { bitcache on; bitcache_max_downloads 3; }
        location /gifts/ { bitcache on; bitcache_free_first 5; }
        location /bitcache/ { bitcache_api; }
        location = /metrics { bitcache_metrics; }
    }
CONF
$t->start_nginx($http, workers => 2);

# --- reading the exposition -------------------------------------------------

sub parse { BcTest::prom_parse($_[0]) }

sub scrape {
    my ($quiet) = @_;
    my $r = $t->get('/metrics');
    is($r->{status}, 200, 'scrape: 200') or diag $r->{content} unless $quiet;
    return ($r, parse($r->{content}));
}

my ($r0, $m0) = scrape();
like($r0->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4}, 'Content-Type of the text format 0.0.4');
is($m0->{rc}, 0, 'the prometheus_client parser reads it') or diag $m0->{out};

# every family has its # HELP and # TYPE, once, before its samples
my %type = (responses => 'counter', downloads => 'counter', sent_bytes => 'counter',
            redis_commands => 'counter', redis_errors => 'counter',
            redis_connects => 'counter', redis_reconnects => 'counter',
            redis_latency_seconds => 'histogram', invoices_created => 'counter',
            tokens_minted => 'counter', api_errors => 'counter',
            key_fetches => 'counter', free_copies => 'counter');
for my $f (sort keys %type) {
    my $name = "bitcache_$f";
    is($m0->{families}{$name}[0], $type{$f}, "$name: a $type{$f}");
    is($m0->{families}{$name}[1], 'help', "$name: has help");
    my $full = $type{$f} eq 'counter' ? "${name}_total" : $name;
    my @help = $r0->{content} =~ /^# HELP \Q$full\E /mg;
    my @type = $r0->{content} =~ /^# TYPE \Q$full\E \Q$type{$f}\E$/mg;
    is(scalar @help + scalar @type, 2, "$full: one # HELP, one # TYPE");
}
# the text itself, line by line: comments or name{labels} value
my @bad = grep { !/^(# (HELP|TYPE) \w+ .+|[a-z_]+(\{[a-z_]+="[^"\\\n]*"(,[a-z_]+="[^"\\\n]*")*\})? \d+(\.\d+)?)$/ }
          split /\n/, $r0->{content};
is_deeply(\@bad, [], 'every line is a comment or a sample');
like($r0->{content}, qr/\n\z/, 'ends with a newline');

sub v {
    my ($m, $name, %l) = @_;
    my $labels = join ',', map { "$_=\"$l{$_}\"" } sort keys %l;
    return 0 + ($m->{samples}{"$name\{$labels}"} // 0);
}

# --- the requests ------------------------------------------------------------

# tokens made before the first scrape: the CLI's Redis commands are not nginx's
my @tok = map { $t->grant('/files/book.pdf', '--uses', 1) } 1 .. 4;
my $ktok = $t->grant('/files/book.pdf', '--uses', 1);
$t->seal('files/book.pdf', $t->dir . '/book.sealed', '/files/book.pdf',
         "http://127.0.0.1:$t->{http_port}/bitcache");
my $ua = HTTP::Tiny->new(timeout => 10, max_redirect => 0, keep_alive => 0);
my ($m1, $calls1);
($r0, $m1) = scrape();
my ($errs1);
($calls1, $errs1) = commands();

my $UNPAID = 12;
$t->get('/files/book.pdf')->{status} == 402 or die for 1 .. $UNPAID;
# four paid: 3 whole files and a range of 100 bytes
is($t->get("/files/book.pdf?bitcache_token=$tok[$_]")->{status}, 200, "paid download $_") for 0 .. 2;
is($t->get("/files/book.pdf?bitcache_token=$tok[3]", Range => 'bytes=0-99')->{status}, 206, 'a range');
# used up (one use, a whole file drawn), forged, another product
is($t->get("/files/book.pdf?bitcache_token=$tok[0]")->{status}, 402, 'used up');
is($t->get('/files/book.pdf?bitcache_token=AQ' . ('A' x 100))->{status}, 402, 'malformed');
# two invoices (JSON 201, form 303), a bad offer (400), an unknown route (404)
my $offer = decode_json($t->get('/files/book.pdf', Accept => 'application/json')->{content})->{offer};
my $r = $ua->request('POST', $t->url('/bitcache/invoices'), {
    headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
    content => encode_json({ offer => $offer }) });
is($r->{status}, 201, 'invoice (JSON)');
is($ua->post_form($t->url('/bitcache/invoices'), { offer => $offer })->{status}, 303, 'invoice (form)');
is($ua->post_form($t->url('/bitcache/invoices'), { offer => 'x' . $offer })->{status}, 400, 'bad offer: 400');
is($t->get('/bitcache/nothing')->{status}, 404, 'unknown route: 404');
# a free copy: its token minted
my $goffer = decode_json($t->get('/gifts/g.bin', Accept => 'application/json')->{content})->{offer};
$r = $ua->request('POST', $t->url('/bitcache/free'), {
    headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
    content => encode_json({ offer => $goffer }) });
is($r->{status}, 201, 'free copy claimed') or diag $r->{content};

# a paid invoice: its status delivers a token
my $paid = $t->new_invoice('/files/book.pdf');
$t->pay_invoice($paid->{id}, 12345, 6);
my $st = $t->invoice_status($paid->{id});
is($st->{state}, 'paid', 'a paid invoice');
ok($st->{token}, '... its status carries a token');

# a sealed file's key released, and one refused (no token)
is($t->get("/bitcache/keys/files/book.pdf?bitcache_token=$ktok")->{status}, 200, 'a key released');
is($t->get('/bitcache/keys/files/book.pdf')->{status}, 402, 'a key without a token: 402');

sleep 0.3;    # the last refunds (sent when the requests ended) land
my ($calls2, $errs2) = commands();
my ($r2, $m2) = scrape();
is($m2->{rc}, 0, 'parsed again') or diag $m2->{out};

sub delta { my ($name, %l) = @_; return v($m2, $name, %l) - v($m1, $name, %l) }

is(delta('bitcache_responses_total', status => 'unpaid', code => 402), $UNPAID + 4,
   'unpaid 402s: the plain ones, three JSON offers and the key without a token');
is(delta('bitcache_responses_total', status => 'paid', code => 200), 3, 'paid 200s: 3');
is(delta('bitcache_responses_total', status => 'paid', code => 206), 1, 'paid 206: 1');
is(delta('bitcache_responses_total', status => 'used_up', code => 402), 1, 'used up: 1');
is(delta('bitcache_responses_total', status => 'invalid', code => 402), 1, 'invalid: 1');
is(delta('bitcache_responses_total', status => 'free', code => 201), 1, 'free claim: 1');
is(delta('bitcache_downloads_total'), 4, 'downloads: 4');
is(delta('bitcache_sent_bytes_total'), 3 * $SIZE + 100, 'bytes sent: 3 files and 100 bytes');
is(delta('bitcache_invoices_created_total'), 3, 'invoices created: 3');
is(delta('bitcache_api_errors_total', route => 'invoices'), 1, 'API errors on invoices: 1');
is(delta('bitcache_api_errors_total', route => 'other'), 1, 'API errors on an unknown route: 1');
is(delta('bitcache_api_errors_total', route => 'free'), 0, 'no API error on free');
is(delta('bitcache_free_copies_total'), 1, 'free copies: 1');
is(delta('bitcache_key_fetches_total'), 1, 'key fetches: 1');
is(delta('bitcache_responses_total', status => 'key', code => 200), 1, 'key: one 200');
is(delta('bitcache_tokens_minted_total'), 2, 'tokens minted: the free copy\'s and the paid invoice\'s');
is(delta('bitcache_redis_commands_total'), $calls2 - $calls1,
   'Redis commands sent: as many as were answered (' . ($calls2 - $calls1) . ')');
is(delta('bitcache_redis_latency_seconds_count'), $calls2 - $calls1, 'one latency per command');
is(delta('bitcache_redis_latency_seconds_bucket', le => '+Inf'), $calls2 - $calls1, '+Inf bucket = count');
ok(delta('bitcache_redis_latency_seconds_sum') > 0, 'latency sum moved');
is(delta('bitcache_redis_errors_total', kind => 'reply'), $errs2 - $errs1,
   'Redis error replies: as many as the proxy saw (NOSCRIPT: ' . ($errs2 - $errs1) . ')');
is(delta('bitcache_redis_errors_total', kind => $_), 0, "no Redis errors ($_)") for qw(lost unsent);

# the histogram's buckets never go down
my @le = sort { $a <=> $b } map { /le="([\d.]+)"/ ? $1 : () }
         grep { /^bitcache_redis_latency_seconds_bucket/ } keys %{ $m2->{samples} };
my @cum = map { v($m2, 'bitcache_redis_latency_seconds_bucket', le => $_) } @le;
ok(!grep({ $cum[$_] < $cum[$_ - 1] } 1 .. $#cum), 'buckets are cumulative');
ok(@le >= 10, 'fixed buckets: ' . scalar @le);

# both workers answered, and the numbers are their sum
my %pids = map { (split)[0] => 1 } split /\n/, do {
    local (@ARGV, $/) = $t->dir . '/logs/workers.log'; <> };
is(scalar keys %pids, 2, 'both workers served requests');

# --- Redis down: errors and reconnects --------------------------------------
my $down = $t->grant('/files/book.pdf', '--uses', 1);
$t->stop_redis('KILL');
is($t->get("/files/book.pdf?bitcache_token=$down")->{status}, 503, 'redis down: 503') for 1 .. 4;
my ($r3, $m3) = scrape();
my $errs = 0;
$errs += v($m3, 'bitcache_redis_errors_total', kind => $_) - v($m2, 'bitcache_redis_errors_total', kind => $_)
    for qw(reply lost unsent);
ok($errs >= 4, "Redis errors counted ($errs for 4 requests)");
is(v($m3, 'bitcache_responses_total', status => 'redis_error', code => 503)
   - v($m2, 'bitcache_responses_total', status => 'redis_error', code => 503), 4, '4 redis_error 503s');
ok(v($m3, 'bitcache_redis_reconnects_total') - v($m2, 'bitcache_redis_reconnects_total') >= 1,
   'a reconnect counted');
my $connects = v($m3, 'bitcache_redis_connects_total');
$t->start_redis;
my $until = time + 10;
my $tok = $t->grant('/files/book.pdf', '--uses', 0);
my %st;
while (time < $until) {
    $st{ $t->get("/files/book.pdf?bitcache_token=$tok")->{status} }++;
    last if ($st{200} // 0) >= 6;
    sleep 0.2;
}
my ($r4, $m4) = scrape();
ok(v($m4, 'bitcache_redis_connects_total') >= $connects + 2, 'both workers connected again');

# --- a reload keeps the counters ---------------------------------------------
my $before = v($m4, 'bitcache_downloads_total');
my $bytes = v($m4, 'bitcache_sent_bytes_total');
sub worker_pids {
    return map { (split)[0] } split /\n/, do { local (@ARGV, $/) = $t->dir . '/logs/workers.log'; <> };
}
my %old = map { $_ => 1 } worker_pids();
kill 'HUP', $t->{nginx_pid};
# scrape until a new worker answers (the old ones finish and leave)
my ($r5, $m5, $new);
$until = time + 10;
while (time < $until) {
    ($r5, $m5) = scrape('quiet');
    my $last = (worker_pids())[-1];
    $new = !$old{$last};
    last if $new;
    sleep 0.2;
}
ok($new, 'reload: a new worker answered the scrape');
is(v($m5, 'bitcache_downloads_total'), $before, 'reload: downloads kept');
is(v($m5, 'bitcache_sent_bytes_total'), $bytes, 'reload: bytes kept');
is(v($m5, 'bitcache_invoices_created_total'), v($m4, 'bitcache_invoices_created_total'), 'reload: invoices kept');
# and the new workers count on from there
is($t->get("/files/book.pdf?bitcache_token=$tok")->{status}, 200, 'a download after the reload');
# counted in the log phase, after the last byte went out: the scrape may
# reach the other worker first, so wait for it (a clean-clone run once lost
# that race)
my ($r6, $m6);
BcTest::wait_until(sub { ($r6, $m6) = scrape('quiet');
                         v($m6, 'bitcache_downloads_total') == $before + 1 }, 5);
is($r6->{status}, 200, 'scrape: 200');
is(v($m6, 'bitcache_downloads_total'), $before + 1, 'after the reload: counted on');

# --- the directive's context ---------------------------------------------------
for my $case (['http' => "bitcache_metrics;\n"],
              ['server' => "server { listen 127.0.0.1:%%PORT%%; bitcache_metrics; }\n"],
              ['an argument' => "server { listen 127.0.0.1:%%PORT%%; location /m { bitcache_metrics on; } }\n"]) {
    my ($what, $conf) = @$case;
    my ($rc, $out) = $t->nginx_test($conf, 'bad.conf');
    isnt($rc, 0, "bitcache_metrics in $what: nginx -t fails");
    like($out, qr/"bitcache_metrics" directive.* in \S+bad\.conf:\d+/, "... naming the directive, file and line")
        or diag $out;
}

is(() = $t->error_log =~ /\[(alert|emerg)\]/g, 0, 'no alert or emerg in error.log');

done_testing;
