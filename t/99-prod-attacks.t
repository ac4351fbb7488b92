#!/usr/bin/perl
# Attack review of issue #14 (production), on real nginx, redis-server and
# (for the watcher) the bcoin regtest node: the log variables and the
# metrics location seen from the web, the metrics zone across reloads, the
# watcher's --metrics port seen from the host. Each attack asserts the safe
# outcome; those that held stay here as regressions.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use IO::Socket::INET;
use JSON::PP ();
use POSIX qw(WNOHANG);
use BcTest;
use TokenRef qw(mint_token parse_token);

my $TPUB = 'tpubDDPRy5xWxJTuVmsh7YRzK8o2EdMWgn4t41fTLxXRgyRN7EKvN2L8BKCFC1gUfPu8Xp6rr667Yc26zrXsiBZsgBc8dQiYnhPNk2Q7CsBrer5';
my $WALLET = "wpkh($TPUB/0/*)";
my $xonly = '79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';

my $t = BcTest->new;
$t->start_redis;
$t->make_file('files/book.pdf', 10_000);
$t->make_file('byarg/a.bin', 100);

# the example's format (conf.example/nginx.conf) plus what an operator may
# add: $request, $request_uri and $args (tokens masked), and a JSON one
my $http = <<"CONF";
    log_format bitcache '\$remote_addr [\$time_local] "\$request" \$status '
                        '\$body_bytes_sent bitcache=\$bitcache_status '
                        'product="\$bitcache_product" token_id=\$bitcache_token_id '
                        'invoice=\$bitcache_invoice left=\$bitcache_bytes_left '
                        'uri="\$request_uri" args="\$args"';
    log_format bcjson escape=json '{"p":"\$bitcache_product","id":"\$bitcache_token_id",'
                                  '"inv":"\$bitcache_invoice","r":"\$request"}';
    bitcache_redis %%REDIS%% timeout=500ms;
    limit_req_zone \$binary_remote_addr zone=slow:1m rate=1r/m;
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        access_log %%DIR%%/logs/bc.log bitcache;
        access_log %%DIR%%/logs/bc.json bcjson;
        bitcache_secret %%DIR%%/secret;
        bitcache_network regtest;
        bitcache_watcher_key $xonly;

        location /files/ {
            bitcache on;
            bitcache_price 12345;
            bitcache_wallet "$WALLET";
        }
        # an operator who names the product from the query
        location /byarg/ {
            bitcache on;
            bitcache_product \$arg_p;
            bitcache_price 12345;
            bitcache_wallet "$WALLET";
        }
        location /bitcache/ { bitcache_api; }
        # a paywalled location behind limit_req (conf.example limits the API so)
        location /limited/ {
            limit_req zone=slow nodelay;
            bitcache on;
            bitcache_price 12345;
            bitcache_wallet "$WALLET";
        }
        location = /metrics { bitcache_metrics; }
        location /plain/ { }
        location = /gone { return 410; }
        location /redir/ { rewrite ^/redir/(.*)\$ /files/\$1 last; }
    }
CONF
$t->start_nginx($http);

my $LOG = $t->dir . '/logs/bc.log';
my $JLOG = $t->dir . '/logs/bc.json';
sub slurp { open my $fh, '<', $_[0] or return ''; local $/; my $s = <$fh>; close $fh; $s }
sub lines_of { my @l = split /\n/, slurp($_[0]); return scalar @l }
# waits until the log has $n lines (the log phase may end after the reply)
sub wait_lines {
    my ($file, $n) = @_;
    BcTest::wait_until(sub { lines_of($file) >= $n }, 5);
    my @l = split /\n/, slurp($file);
    return @l;
}

my $n = 0;      # requests logged so far

# --- log lines forged or split through the URI ($bitcache_product) ----------------

my $forge = "/files/book.pdf%0a127.0.0.1%20[01/Jan/2026]%20%22GET%20/x%22%20200"
          . "%20bitcache=paid%20product=%22/files/book.pdf%22%20token_id=00%0d%22%5c";
my $r = $t->raw('GET', $forge);
$n++;
my @l = wait_lines($LOG, $n);
is(scalar @l, $n, 'web: a URI with %0a/%0d: still one log line per request');
unlike($l[-1], qr/[\x00-\x1f\x7f]/, 'web: no control byte in the line');
like($l[-1], qr/product="\/files\/book\.pdf\\x0A127\.0\.0\.1 \[01\/Jan\/2026\] \\x22GET/,
     'web: $bitcache_product escaped by log_format (\\x0A, \\x22)');
# what the sender wrote stays inside the quoted field ("\x22" for its quotes)
(my $unquoted = $l[-1]) =~ s/"(?:[^"\\]|\\.)*"/""/g;
my @fields = $unquoted =~ /\bbitcache=(\S+)/g;
is_deeply(\@fields, ['unpaid'], 'web: outside quoted fields one bitcache= field, the real one (unpaid)');
my @j = wait_lines($JLOG, $n);
is(scalar @j, $n, 'web: the JSON log has one line per request too');
my $jd = eval { JSON::PP::decode_json($j[-1]) };
ok($jd, 'web: the escape=json line parses') or diag $j[-1];
like($jd->{p} // '', qr{^/files/book\.pdf\n127}, 'web: ... its product is the decoded URI, as data');

# an operator's bitcache_product $arg_p: raw bytes of the query
$r = $t->raw('GET', '/byarg/a.bin?p=x%0a%22y%22%5c%00z');
$n++;
@l = wait_lines($LOG, $n);
is(scalar @l, $n, 'web: bitcache_product $arg_p with %0a: one line');
unlike($l[-1], qr/[\x00-\x1f\x7f]/, 'web: ... no control byte');

# headers cannot reach the module's variables: a bitcache_token cookie with a
# newline is refused by nginx or logged as "-"
$r = $t->raw('GET', '/files/book.pdf', undef, Cookie => "bitcache_token=a\"b");
$n++;
@l = wait_lines($LOG, $n);
like($l[-1], qr/token_id=- /, 'web: a junk cookie token: no token id logged');

# --- tokens in logs --------------------------------------------------------------------

my $tok = $t->grant('/files/book.pdf');
my $id = parse_token($tok)->{id};
my $secret = $t->secret_bytes;

sub no_token_in_logs {
    my ($what, @toks) = @_;
    my $all = slurp($LOG) . slurp($JLOG) . slurp($t->dir . '/logs/access.log')
            . $t->error_log;
    for my $k (@toks) {
        # also the token's halves: a part of a token is enough to find it
        my $half = substr($k, 0, 24);
        ok(index($all, $half) < 0, "$what: no part of the token in any log");
    }
}

$r = $t->get("/files/book.pdf?bitcache_token=$tok");
is($r->{status}, 200, 'a granted token: 200');
$n++;
@l = wait_lines($LOG, $n);
like($l[-1], qr/token_id=$id /, 'the log has the token id');
no_token_in_logs('?bitcache_token=', $tok);

# the same token twice in the query: ngx_http_arg finds the first; the
# second copy must not reach $request/$request_uri/$args
my $tok2 = $t->grant('/files/book.pdf');
$r = $t->get("/files/book.pdf?bitcache_token=$tok2&bitcache_token=$tok2");
$n++;
wait_lines($LOG, $n);
no_token_in_logs('the token twice in the query', $tok2);

# another case of the name (ngx_http_arg ignores case)
my $tok3 = $t->grant('/files/book.pdf');
$r = $t->get("/files/book.pdf?x=1&BITCACHE_TOKEN=$tok3&bitcache_token=$tok3");
$n++;
wait_lines($LOG, $n);
no_token_in_logs('the token twice, names in two cases', $tok3);

# refused before the access phase (limit_req's 503 in preaccess): the
# module never read the query, so nothing masked the token there
$t->make_file('limited/c.bin', 100);
my $tok4 = $t->grant('/limited/c.bin');
$t->get("/limited/c.bin?bitcache_token=$tok4");
$r = $t->get("/limited/c.bin?bitcache_token=$tok4");
is($r->{status}, 503, 'limit_req refuses the second request: 503');
$n += 2;
wait_lines($LOG, $n);
no_token_in_logs('a request refused by limit_req (preaccess)', $tok4);
# the first, allowed one still used its token (the post-read copy)
like((split /\n/, slurp($LOG))[-2], qr/ 200 .*bitcache=paid/, 'limit_req: the first request was paid');
# a location without the module, and a server-level return: hidden too
my $tok5 = $t->grant('/files/book.pdf');
$r = $t->get("/plain/x?bitcache_token=$tok5");
$r = $t->get("/gone?a=1&bitcache_token=$tok5");
is($r->{status}, 410, 'a return in the rewrite phase: 410');
$n += 2;
wait_lines($LOG, $n);
no_token_in_logs('a location without the module, a rewrite-phase return', $tok5);
# after an internal redirect (a rewrite to the paid location) the token still counts
$r = $t->get("/redir/book.pdf?bitcache_token=$tok5");
is($r->{status}, 200, 'an internal redirect keeps the token (the copy, not the stars)');
$n++;
wait_lines($LOG, $n);
no_token_in_logs('an internal redirect', $tok5);

# a paid HTML page opened with ?bitcache_token=: its own links and
# resources would send the URL, token and all, as Referer (into this
# host's "combined" log, $http_referer, unmasked): the answer says no-referrer
$t->make_file('files/page.html', 100);
my $tok6 = $t->grant('/files/page.html');
$r = $t->get("/files/page.html?bitcache_token=$tok6");
is($r->{status}, 200, 'a paid page by ?bitcache_token=: 200');
is($r->{headers}{'referrer-policy'} // '', 'no-referrer',
   'web: ... with Referrer-Policy: no-referrer (no token in a later Referer)');
$n++;
wait_lines($LOG, $n);

# a forged token (its MAC wrong): no "id" of the sender's choosing is logged
my $forged = mint_token("\x01" x 32, "\xab" x 16, time + 3600, 1, '/files/book.pdf');
$r = $t->get("/files/book.pdf?bitcache_token=$forged");
is($r->{status}, 402, 'a forged token: 402');
$n++;
@l = wait_lines($LOG, $n);
like($l[-1], qr/token_id=- /, 'a forged token: token_id "-"');
unlike($l[-1], qr/abababab/, 'a forged token: its chosen id is nowhere in the line');

# the invoice variable from the URI: hex, re-encoded, or "-"
$r = $t->raw('GET', '/bitcache/invoices/%0a%22' . ('a' x 30));
$n++;
@l = wait_lines($LOG, $n);
like($l[-1], qr/invoice=- /, 'web: a junk invoice id in the URI: invoice "-"');

# --- the metrics location, as the web sees it -----------------------------------------

$r = $t->get('/metrics');
is($r->{status}, 200, 'metrics: 200');
my $body = $r->{content};
unlike($body, qr{book\.pdf|byarg|127\.0\.0\.1|$id}, 'metrics: no product, URI, address or token id');
my %labels;
$labels{$1}++ for $body =~ /\{([^}]*)\}/g;
my @odd = grep { !/^(status="\w+",code="\w+"|kind="\w+"|le="[\d.+Inf]+"|route="\w+")$/ } keys %labels;
is_deeply(\@odd, [], 'metrics: only fixed label values');
is($t->http('POST', '/metrics')->{status}, 405, 'metrics: POST 405');
$r = $t->http('HEAD', '/metrics');
is($r->{status}, 200, 'metrics: HEAD 200');
is($r->{content} // '', '', 'metrics: HEAD has no body');
$r = $t->raw('GET', '/metrics', 'x' x 100_000);
is($r->{status}, 200, 'metrics: a GET with a 100 kB body: 200 (discarded)');
# many at once
{
    my @socks;
    for (1 .. 200) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port},
                                      Timeout => 5) or last;
        print $s "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
        push @socks, $s;
    }
    my $ok = 0;
    for my $s (@socks) {
        local $/ = "\r\n";
        my $line = <$s> // '';
        $ok++ if $line =~ /^HTTP\/1\.1 200/;
        close $s;
    }
    is($ok, 200, 'metrics: 200 scrapes at once all answered');
}

my $before = $t->get('/metrics')->{content};
my ($paid) = $before =~ /bitcache_responses_total\{status="paid",code="200"\} (\d+)/;
ok($paid && $paid >= 1, 'metrics: paid downloads counted');

# --- the zone across reloads ---------------------------------------------------------

# a config whose own zone takes the module's name: refused, the old one runs on
{
    my ($rc, $out) = $t->nginx_test($http . "    limit_req_zone \$binary_remote_addr zone=bitcache_metrics:1m rate=1r/s;\n",
                                      'clash.conf');
    isnt($rc, 0, 'a zone named bitcache_metrics in the config: nginx -t refuses it');
    like($out, qr/bitcache_metrics/, '... naming the zone') or diag $out;
}
for my $i (1 .. 3) {
    kill 'HUP', $t->{nginx_pid};
    sleep 0.5;
    $t->get("/files/book.pdf?bitcache_token=$tok");
}
sleep 0.5;
my $after = $t->get('/metrics')->{content};
my ($paid2) = $after =~ /bitcache_responses_total\{status="paid",code="200"\} (\d+)/;
ok(defined $paid2 && $paid2 >= $paid, 'reloads: the counters go on') or diag "$paid -> " . ($paid2 // 'none');

# --- the watcher's metrics port, from the host -----------------------------------------

note 'stage: node ' . time;
$t->stop_nginx;
$t->start_node;
$t->fund_wallet;
$t->start_nginx($t->selling_http('location /files/ { bitcache on; bitcache_confirmations 1; }'));

# a flood of hostile clients on $port until $stop exists: $k silent or
# dribbling connections at a time (each a byte every 0.3 s, never a whole
# head), one 100 kB line without LF, NUL bytes, a full request never read
sub flood {
    my ($port, $k, $stop) = @_;
    my $pid = fork // die;
    return $pid if $pid;
    my @s;
    my $i = 0;
    while (!-e $stop) {
        @s = grep { $_->connected } @s;
        while (@s < $k) {
            my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1,
                                          Blocking => 1) or last;
            my $kind = $i++ % 5;
            if ($kind == 1) { syswrite $c, 'X' x 100_000 }
            elsif ($kind == 2) { syswrite $c, "GET /metrics\0\0\0 HTTP/1.1\r\n\r\n" }
            elsif ($kind == 3) { syswrite $c, "GET /metrics HTTP/1.1\r\n\r\n" }   # never read
            push @s, $c;
        }
        for my $c (@s) { syswrite $c, 'G' if $c->connected }
        sleep 0.3;
    }
    exit 0;
}

note 'stage: node up ' . time;
my $MPORT = BcTest::free_port();
$t->start_watcher(poll => 1000, args => ['--metrics', "127.0.0.1:$MPORT"]);
BcTest::wait_port($MPORT, 1, 20) or BAIL_OUT('no metrics port: ' . $t->watcher_log);
my $ua = HTTP::Tiny->new(timeout => 10, keep_alive => 0);
is($ua->get("http://127.0.0.1:$MPORT/metrics")->{status}, 200, 'watcher: a scrape answers');

my $STOP = $t->dir . '/flood.stop';
my $fpid = flood($MPORT, 40, $STOP);
sleep 2;
my $inv = $t->new_invoice('/files/book.pdf');
$t->send_sats($inv->{address}, 12_345);
my $t0 = time;
$t->mine(1);
my $settled = BcTest::wait_until(sub { ($t->invoice($inv->{id})->{state} // '') eq 'paid' }, 60);
my $took = time - $t0;
ok($settled, 'host: 40 hostile clients on the metrics port: the payment is still settled');
cmp_ok($took, '<', 15, "host: ... within 15 s (took ${\ sprintf '%.1f', $took} s)");
like($t->watcher_log, qr/leader/, 'host: the watcher led');
unlike($t->watcher_log, qr/standby|lost the lease/i, 'host: and never lost its lease');
kill 0, $t->{pids}{watcher} and pass('host: the watcher is alive under the flood');
# many connections at once, beyond the backlog
my $T = time;
my @many = map { IO::Socket::INET->new(PeerAddr => "127.0.0.1:$MPORT", Blocking => 0) } 1 .. 300;
note sprintf 'stage: 300 connects %.1f s', time - $T;
@many = ();
$t->write_file('flood.stop', '');
waitpid $fpid, 0;
note sprintf 'stage: flood stopped %.1f s', time - $T;
my $ok = BcTest::wait_until(sub { ($ua->get("http://127.0.0.1:$MPORT/metrics")->{status} // 0) == 200 }, 10);
note sprintf 'stage: scrape %.1f s', time - $T;
ok($ok, 'host: after the flood a scrape answers again');
unlike($t->watcher_log, qr/metrics: \d+ bytes do not fit/, 'host: the exposition fits its buffer');
$t->stop_watcher;

# two watchers with the tightest lease --poll allows (twice it): a flood
# on the leader's metrics port stretches each of its sleeps by up to 1 s,
# past the lease; a stranger on the host must not move the lease
{
    my $P = BcTest::free_port();
    $t->start_watcher(name => 'wa', poll => 500, args => ['--lease', 1000, '--metrics', "127.0.0.1:$P"]);
    BcTest::wait_until(sub { $t->watcher_log('wa') =~ /leader|--lease/ }, 20);
    if ($t->watcher_log('wa') =~ /--lease/) {
        like($t->watcher_log('wa'), qr/--metrics/,
             'host: --metrics with a lease a stalled scrape could outlast: refused at start');
    } else {
        $t->start_watcher(name => 'wb', poll => 500, args => ['--lease', 1000]);
        sleep 2;
        unlink $STOP;
        my $f = flood($P, 20, $STOP);
        sleep 8;
        $t->write_file('flood.stop', '');
        waitpid $f, 0;
        unlike($t->watcher_log('wb'), qr/leader/,
               'host: a flood on the leader\'s metrics port does not hand the lease to the standby');
        $t->stop_watcher('wb');
    }
    $t->stop_watcher('wa');
}
# the least lease that --metrics now allows, twice (poll + 1 s): the flood
# leaves it with the leader
{
    my $P = BcTest::free_port();
    $t->start_watcher(name => 'wc', poll => 500, args => ['--lease', 3000, '--metrics', "127.0.0.1:$P"]);
    BcTest::wait_until(sub { $t->watcher_log('wc') =~ /leader/ }, 20);
    like($t->watcher_log('wc'), qr/leader/, 'host: --poll 500 --lease 3000 --metrics: starts and leads');
    $t->start_watcher(name => 'wd', poll => 500, args => ['--lease', 3000]);
    sleep 2;
    unlink $STOP;
    my $f = flood($P, 20, $STOP);
    sleep 10;
    $t->write_file('flood.stop', '');
    waitpid $f, 0;
    unlike($t->watcher_log('wd'), qr/leader/, 'host: a 10 s flood on its metrics port leaves the lease with the leader');
    unlike($t->watcher_log('wc'), qr/lost the lease/, 'host: ... which never lost it');
    $t->stop_watcher('wd');
    $t->stop_watcher('wc');
}

unlike($t->error_log, qr/\[(alert|emerg|crit)\]|signal 11|exited on signal/, 'nginx: no alert or crash');

done_testing;
