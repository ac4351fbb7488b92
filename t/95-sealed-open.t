#!/usr/bin/perl
# `bitcache open` through the host (docs/sealed.md, "The commands"): a file
# sealed for /films/... is put on a mirror (a plain nginx without the
# module), downloaded from there with curl and opened: an invoice paid by
# the regtest node and settled by the watcher, the printed token opening
# it again until its fetches are used up, a stopped run resumed with
# --invoice/--claim, pay what you want (--amount), a Bitcache wallet (an
# owned product is not charged again). Refused before paying: a copy
# sealed with another key than the host sells, a product the host does
# not sell or has no key for; refused after: a tampered copy (OUT not
# written). A host that is down, and bad arguments, say what is wrong.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use HTTP::Tiny;
use BcTest;

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x $BcTest::CLI;

my $t = BcTest->new;
my $dir = $t->dir;
$t->start_redis;
$t->start_node;
$t->fund_wallet;
my %file = (
    'a.mp4' => $t->make_file('films/a.mp4', 200_000),     # 4 chunks of 64 KiB
    'empty.bin' => $t->make_file('films/empty.bin', 0),
    'one.bin' => $t->make_file('films/one.bin', 1),
    'r.mp4' => $t->make_file('films/r.mp4', 5_000),
    'p.mp4' => $t->make_file('films/p.mp4', 5_000),
    'w.mp4' => $t->make_file('films/w.mp4', 70_000),
    'k.mp4' => $t->make_file('films/k.mp4', 3_000),
    'gone.mp4' => $t->make_file('films/gone.mp4', 3_000),
    'x.bin' => $t->make_file('plain/x.bin', 3_000),
    'g.bin' => $t->make_file('gift/g.bin', 3_000),
);
my $http = $t->wallet_http(<<'LOC');
        location /films/ {
            bitcache on;
            bitcache_confirmations 1;
            bitcache_max_downloads 2;
            bitcache_suggested_price 20000;
        }
        location /plain/ { }
        location /gift/ { bitcache on; bitcache_free_first 1; bitcache_confirmations 1; }
LOC
# the same host on IPv6 and over TLS (a self-signed certificate: refused)
my $tls = BcTest::free_port();
system("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout $dir/tls.key "
       . "-out $dir/tls.crt >/dev/null 2>&1") == 0 or die 'openssl failed';
$http =~ s{listen 127\.0\.0\.1:%%PORT%%;}
          {listen 127.0.0.1:%%PORT%%; listen [::1]:%%PORT%%; listen 127.0.0.1:$tls ssl;
        ssl_certificate %%DIR%%/tls.crt; ssl_certificate_key %%DIR%%/tls.key;} or die;
$t->start_nginx($http);
$t->start_watcher;
my $api = $t->url('/bitcache');

# the mirror: a plain nginx serving the sealed copies
my $m = BcTest->new;
# (and, for the client's limits, a host that redirects and one that answers
# more than 1 MiB)
$m->write_file('html/huge/keys/films/one.bin', 'x' x (2 << 20));
$m->start_nginx(<<"CONF", plain => 1);
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        location /moved/ { return 302 $api/keys/films/one.bin; }
    }
CONF
mkdir "$dir/dl";
mkdir "$dir/out";

sub seal {
    my ($name, %o) = @_;
    my $product = $o{product} // "/films/$name";
    my ($rc, $out, $err) = $t->cli('seal', "$dir/html$product", $m->dir . "/html/$name.bcs",
        '--product', $product, '--host', $o{host} // $api, '--chunk-size', 65536,
        '--title', "Title of $name", '--secret', "$dir/secret", '--redis', $t->redis_addr,
        @{ $o{args} || [] });
    is($rc, 0, "sealed $product") or diag $err;
    # downloaded from the mirror, as a buyer would
    my $copy = "$dir/dl/$name.bcs";
    unlink $copy;
    system('curl', '-sf', '-o', $copy, $m->url("/$name.bcs")) == 0 or die "curl $name";
    return $copy;
}

sub slurp { my $f = shift; open my $fh, '<', $f or return undef; binmode $fh; local $/; my $d = <$fh>; $d // '' }

sub inv_count { scalar @{ $t->redis('KEYS', 'bitcache:inv:*') || [] } }

# waits for a run to print what to pay; returns (sats, address, id, claim)
sub pay_line {
    my ($name) = @_;
    my $err = '';
    BcTest::wait_until(sub { (undef, $err) = $t->cli_output($name);
                             $err =~ /--claim \S+ --host \S+\n/ }, 30);
    my ($sats, $btc, $addr) = $err =~ /pay (\d+) sats \((\S+) BTC\) to (\S+)\n/;
    my ($id, $claim) = $err =~ /--invoice ([0-9a-f]{32}) --claim (\S+) --host \Q$api\E\n/;
    ok($sats && $addr && $id && $claim, "$name: printed what to pay and how to resume")
        or diag $err;
    return ($sats // 0, $addr // '', $id // '', $claim // '', $btc // '');
}

sub finish_ok {
    my ($name, $copy, $out, $want) = @_;
    my $rc = $t->cli_finish($name, 60);
    my ($so, $se) = $t->cli_output($name);
    is($rc, 0, "$name: exits 0") or diag $se . $t->watcher_log;
    my $product = ($copy =~ m{/([^/]+)\.bcs$})[0];
    is($so, "$out\t" . length($want) . "\t/films/$product\n", "$name: prints OUT, bytes, product");
    ok(defined slurp($out) && slurp($out) eq $want, "$name: the bytes are the original's");
    return $se;
}

# ---- an invoice paid from the node's wallet -----------------------------
my $a = seal('a.mp4');
ok(-s $a > 200_000 + 4 * 16, 'the sealed copy, from the mirror');
$t->cli_start('a', 'open', $a, '-o', "$dir/out/a.mp4");
my ($sats, $addr, $id, $claim, $btc) = pay_line('a');
is($sats, 12345, 'the price');
is($btc, '0.00012345', 'in BTC');
my (undef, $err) = $t->cli_output('a');
like($err, qr/"Title of a\.mp4" \(\/films\/a\.mp4\) at \Q$api\E/, 'the title, product and host');
like($err, qr/bitcoin:\Q$addr\E\?amount=0\.00012345/, 'the bitcoin: URI');
ok(!-e "$dir/out/a.mp4", 'nothing written while unpaid');
$t->send_sats($addr, $sats);
$t->mine(1);
$err = finish_ok('a', $a, "$dir/out/a.mp4", $file{'a.mp4'});
my ($token) = $err =~ /token: (\S+) \(open again with --token and --host \Q$api\E\)\n/;
ok($token, 'the token printed once') or diag $err;
is(() = $err =~ /token: /g, 1, '... only once');

# the token opens it again (fetch 2 of 2), then is used up
my ($rc, $out);
($rc, $out, $err) = $t->cli('open', $a, '-o', "$dir/out/a2.mp4", '--token', $token, '--host', $api);
is($rc, 0, '--token opens it again') or diag $err;
ok(slurp("$dir/out/a2.mp4") eq $file{'a.mp4'}, '... the same bytes');
unlike($err, qr/token: /, '... and prints no token (the buyer has it)');
($rc, $out, $err) = $t->cli('open', $a, '-o', "$dir/out/a3.mp4", '--token', $token, '--host', $api);
is($rc, 1, 'a third fetch with a 2-download token: exit 1');
like($err, qr/refused the token \(402\): .*used up/i, '... 402, downloads used up') or diag $err;
ok(!-e "$dir/out/a3.mp4", '... nothing written');

# a tampered copy: refused, OUT not written
my $tok5 = $t->grant('/films/a.mp4', '--uses', 5);
my $bad = slurp($a);
substr($bad, 100_000, 1) ^= "\x01";
$t->write_file('dl/bad.bcs', $bad);
($rc, $out, $err) = $t->cli('open', "$dir/dl/bad.bcs", '-o', "$dir/out/bad.mp4", '--token', $tok5, '--host', $api);
is($rc, 1, 'tampered copy: exit 1');
like($err, qr/refused, nothing written: .*chunk 1/, '... names the chunk') or diag $err;
ok(!-e "$dir/out/bad.mp4", '... OUT not written');
is($out, '', '... nothing on stdout');

# the copy on stdin
is(system("$BcTest::CLI open - -o $dir/out/stdin.mp4 --token $tok5 --host $api < $a > $dir/stdin.out 2>&1"), 0,
   'FILE "-": the copy from stdin');
ok(slurp("$dir/out/stdin.mp4") eq $file{'a.mp4'}, '... the bytes');

# sizes 0 and 1, with a granted token; the key never shows
for my $n ('empty.bin', 'one.bin') {
    my $c = seal($n);
    my $tk = $t->grant("/films/$n", '--uses', 3);
    ($rc, $out, $err) = $t->cli('open', $c, '-o', "$dir/out/$n", '--token', $tk, '--host', $api);
    is($rc, 0, "$n opens") or diag $err;
    is($out, "$dir/out/$n\t" . length($file{$n}) . "\t/films/$n\n", "$n: its line");
    ok(slurp("$dir/out/$n") eq $file{$n}, "$n: the bytes");
    my $r = HTTP::Tiny->new->get("$api/keys/films/$n?bitcache_token=$tk");
    my $key = eval { decode_json($r->{content})->{key} } // 'no key';
    like($key, qr/^[0-9a-f]{64}$/, "$n: the host's key");
    unlike($out . $err, qr/\Q$key\E/i, "$n: the key is not printed");
}

# ---- a stopped run resumed with --invoice/--claim -------------------------
my $r = seal('r.mp4');
$t->cli_start('r1', 'open', $r, '-o', "$dir/out/r.mp4");
($sats, $addr, $id, $claim) = pay_line('r1');
$t->cli_kill('r1');
ok(!-e "$dir/out/r.mp4", 'the stopped run wrote nothing');
my $n = inv_count();
$t->cli_start('r2', 'open', $r, '-o', "$dir/out/r.mp4", '--invoice', $id, '--claim', $claim,
              '--wait', 120, '--host', $api);
$t->send_sats($addr, $sats);
$t->mine(1);
$err = finish_ok('r2', $r, "$dir/out/r.mp4", $file{'r.mp4'});
is(inv_count(), $n, 'the resumed run made no second invoice');
like($err, qr/token: \S+ \(open again/, 'the resumed run prints the token');

# a wrong claim: the paid invoice's token is not given
($rc, $out, $err) = $t->cli('open', $r, '-o', "$dir/out/r9.mp4", '--invoice', $id,
                            '--claim', 'A' x 43, '--wait', 5, '--host', $api);
is($rc, 1, 'a wrong claim: exit 1');
like($err, qr/does not take this claim/, '... says so') or diag $err;
unlike($err, qr/A{43}/, '... without printing the claim');

# --wait: gives up, says how to resume
($rc, $out, $err) = $t->cli('open', $r, '-o', "$dir/out/r8.mp4", '--wait', 3);
is($rc, 1, '--wait 3 and no payment: exit 1');
like($err, qr/no payment settled within 3 s \(resume with --invoice [0-9a-f]{32} and the claim\)/,
     '... says so') or diag $err;
ok(!-e "$dir/out/r8.mp4", '... nothing written');

# ---- pay what you want ----------------------------------------------------
my $p = seal('p.mp4');
$t->cli_start('p', 'open', $p, '-o', "$dir/out/p.mp4", '--amount', 20000);
($sats, $addr, $id) = pay_line('p');
is($sats, 20000, '--amount 20000: the invoice asks 20000 sats');
is($t->invoice($id)->{amount}, 20000, '... its record too');
# Redis late while it waits: the status answers 503, the CLI waits on
$t->redis_signal('STOP');
BcTest::wait_until(sub { $t->access_log =~ m{GET /bitcache/invoices/$id HTTP/1.1" 503} }, 15);
$t->redis_signal('CONT');
like($t->access_log, qr{GET /bitcache/invoices/$id HTTP/1.1" 503}, 'a poll answered 503 (Redis stopped)');
is($t->cli_finish('p', 0.5), undef, '... and the CLI still waits');
$t->send_sats($addr, 20000);
$t->mine(1);
finish_ok('p', $p, "$dir/out/p.mp4", $file{'p.mp4'});

# ---- a giveaway: the free copy, then the price ----------------------------
my $gift = seal('g.bin', product => '/gift/g.bin');
$n = inv_count();
($rc, $out, $err) = $t->cli('open', $gift, '-o', "$dir/out/g.bin");
is($rc, 0, 'a giveaway: the first open gets a free copy') or diag $err;
like($err, qr/a free copy \(number 1; 0 left\)/, '... says so');
like($err, qr/token: \S+ \(open again with --token and --host \Q$api\E\)/, '... and prints its token');
is($out, "$dir/out/g.bin\t3000\t/gift/g.bin\n", '... its line');
ok(slurp("$dir/out/g.bin") eq $file{'g.bin'}, '... the bytes');
is(inv_count(), $n, '... no invoice');
$t->cli_start('g2', 'open', $gift, '-o', "$dir/out/g2.bin");
($sats) = pay_line('g2');
$t->cli_kill('g2');
is($sats, 12345, 'none left: the next open shows the price');
unlike(($t->cli_output('g2'))[1], qr/free copy/, '... and no free copy');

# ---- a Bitcache wallet ---------------------------------------------------
my $w = seal('w.mp4');
my $code = $t->wallet_open->{code};
$t->wallet_topup_paid($code, 100_000);
$t->write_file('wallet.code', "$code\n", 0600);
$n = inv_count();
($rc, $out, $err) = $t->cli('open', $w, '-o', "$dir/out/w.mp4", '--wallet-secret', "\@$dir/wallet.code", '--host', $api);
is($rc, 0, '--wallet-secret @FILE buys') or diag $err;
ok(slurp("$dir/out/w.mp4") eq $file{'w.mp4'}, '... the bytes');
like($err, qr/bought from the wallet for 12345 sats \(balance 87655 sats\)/, '... says the price and balance');
is($t->wallet_balance($code), 100_000 - 12345, '... charged the price');
unlike($out . $err, qr/\Q$code\E/, '... the code is not printed');
($rc, $out, $err) = $t->cli('open', $w, '-o', "$dir/out/w2.mp4", '--wallet-secret', $code, '--host', $api);
is($rc, 0, 'again with the code') or diag $err;
like($err, qr/owned already: not charged again/, '... owned');
is($t->wallet_balance($code), 100_000 - 12345, '... not charged again');
ok(slurp("$dir/out/w2.mp4") eq $file{'w.mp4'}, '... the bytes');
is(inv_count(), $n, 'wallet purchases make no invoice');
my $other = $t->wallet_open->{code};
($rc, $out, $err) = $t->cli('open', $w, '-o', "$dir/out/w3.mp4", '--wallet-secret', $other, '--host', $api);
is($rc, 1, 'an empty wallet: exit 1');
like($err, qr/balance is too low/, '... says so') or diag $err;
ok(!-e "$dir/out/w3.mp4", '... nothing written');

# ---- refused before paying ------------------------------------------------
my $k = seal('k.mp4');
my $kcopy = "$dir/dl/k-old.bcs";
rename $k, $kcopy or die;
seal('k.mp4', args => ['--new-key']);
$n = inv_count();
($rc, $out, $err) = $t->cli('open', $kcopy, '-o', "$dir/out/k.mp4");
is($rc, 1, 'a copy sealed with an old key: exit 1');
like($err, qr/sells another key of this product .*nothing is paid/, '... says so, before paying')
    or diag $err;
is(inv_count(), $n, '... and made no invoice');
ok(!-e "$dir/out/k.mp4", '... nothing written');

my $g = seal('gone.mp4');
$t->redis('DEL', 'bitcache:sealkey:/films/gone.mp4');
($rc, $out, $err) = $t->cli('open', $g, '-o', "$dir/out/g.mp4");
is($rc, 1, 'no key record: exit 1');
like($err, qr/has no key for \/films\/gone\.mp4 \(404 not_sealed/, '... not_sealed') or diag $err;

my $x = seal('x.bin', product => '/plain/x.bin');
($rc, $out, $err) = $t->cli('open', $x, '-o', "$dir/out/x.bin");
is($rc, 1, 'a product the host does not sell: exit 1');
like($err, qr/does not sell \/plain\/x\.bin \(404 not_for_sale\)/, '... not_for_sale') or diag $err;
is(inv_count(), $n, 'nothing offered, no invoice');

# ---- the host down ---------------------------------------------------------
my $port = BcTest::free_port();
my $d = seal('one.bin', host => "http://127.0.0.1:$port/bitcache");
($rc, $out, $err) = $t->cli('open', $d, '-o', "$dir/out/d.bin");
is($rc, 1, 'host down: exit 1');
like($err, qr/cannot connect to 127\.0\.0\.1:$port/, '... names the host') or diag $err;
is($out, '', '... nothing on stdout');
ok(!-e "$dir/out/d.bin", '... nothing written');

# ---- IPv6, TLS, the key record, Redis ------------------------------------
my $six = seal('one.bin', host => "http://[::1]:$t->{http_port}/bitcache");
my $tk1 = $t->grant('/films/one.bin', '--uses', 3);
($rc, $out, $err) = $t->cli('open', $six, '-o', "$dir/out/six.bin", '--token', $tk1, '--host', "http://[::1]:$t->{http_port}/bitcache");
is($rc, 0, 'a host on an IPv6 literal') or diag $err;
ok(slurp("$dir/out/six.bin") eq $file{'one.bin'}, '... the bytes');

my $s = seal('one.bin', host => "https://127.0.0.1:$tls/bitcache");
($rc, $out, $err) = $t->cli('open', $s, '-o', "$dir/out/s.bin", '--token', $tk1, '--host', "https://127.0.0.1:$tls/bitcache");
is($rc, 1, 'a host whose certificate is not trusted: exit 1');
like($err, qr/TLS with 127\.0\.0\.1:$tls failed/, '... a TLS failure naming the host') or diag $err;
unlike($err, qr/\Q$tk1\E/, '... without the token');
ok(!-e "$dir/out/s.bin", '... nothing written');

# a key record that does not unwrap (another product's, written by a Redis writer)
my %rrec = @{ $t->redis('HGETALL', 'bitcache:sealkey:/films/r.mp4') };
$t->redis('HSET', 'bitcache:sealkey:/films/gone.mp4', %rrec);
my $tkg = $t->grant('/films/gone.mp4', '--uses', 3);
($rc, $out, $err) = $t->cli('open', $g, '-o', "$dir/out/g.mp4", '--token', $tkg, '--host', $api);
is($rc, 1, 'a key record that does not unwrap: exit 1');
like($err, qr/key record for \/films\/gone\.mp4 is invalid \(409/, '... 409') or diag $err;
($rc, $out, $err) = $t->cli('open', $g, '-o', "$dir/out/g.mp4");
is($rc, 1, '... and without a token');
like($err, qr/sells another key/, '... its id is not the copy\'s: refused before paying') or diag $err;

# a wrong wallet code
($rc, $out, $err) = $t->cli('open', $w, '-o', "$dir/out/w5.mp4", '--wallet-secret',
                            substr($code, 0, -1) . (substr($code, -1) eq 'q' ? 'p' : 'q'), '--host', $api);
is($rc, 1, 'a wrong wallet code: exit 1');
like($err, qr/the host refused it \(401/, '... 401') or diag $err;
unlike($err, qr/bcw1/, '... the code is not printed');

# no redirect is followed; an answer is at most 1 MiB
my $mv = seal('one.bin', host => $m->url('/moved'));
($rc, $out, $err) = $t->cli('open', $mv, '-o', "$dir/out/mv.bin");
is($rc, 1, 'a host that redirects: exit 1');
like($err, qr/HTTP 302 from the host/, '... the redirect is not followed') or diag $err;
my $hg = seal('one.bin', host => $m->url('/huge'));
($rc, $out, $err) = $t->cli('open', $hg, '-o', "$dir/out/hg.bin");
is($rc, 1, 'a host that answers 2 MiB: exit 1');
like($err, qr/answered more than 1048576 bytes/, '... refused past 1 MiB') or diag $err;

# ---- a lying host (a plain nginx answering what a host could) -------------
my ($rcs, $sout) = $t->cli('seal', "$dir/html/films/one.bin", "$dir/dl/l.tmp", '--product',
    '/films/one.bin', '--host', 'http://x/y', '--secret', "$dir/secret", '--redis', $t->redis_addr);
my ($kid) = $sout =~ /key ([0-9a-f]{32})/;
ok($kid, "one.bin's key id ($kid)");
my $l = BcTest->new;
my $esc = '\\u001b[2J\\u009b31m';
$l->start_nginx(<<"CONF", plain => 1);
    server {
        listen 127.0.0.1:%%PORT%%;
        default_type application/json;
        location /more/keys/ { return 402 '{"key_id":"$kid","offer":"o","price_sats":12345}'; }
        location = /more/invoices { return 201 '{"id":"@{[ '0' x 32 ]}","claim":"@{[ 'A' x 43 ]}","address":"bcrt1qxyz","amount_sats":99999}'; }
        location /badkey/keys/ { return 200 '{"key_id":"$kid","key":"@{[ '00' x 32 ]}"}'; }
        location /otherid/keys/ { return 200 '{"key_id":"@{[ 'f' x 32 ]}","key":"@{[ '00' x 32 ]}"}'; }
        location /free/keys/ { return 200 '{"key_id":"$kid","key":"@{[ '00' x 32 ]}"}'; }
        location /escape/keys/ { return 402 '{"key_id":"$kid","reason":"$esc"}'; }
    }
CONF
sub liar {
    my ($path, @args) = @_;
    my $c = seal('one.bin', host => $l->url("/$path"));
    push @args, '--host', $l->url("/$path") if grep { /^--(token|wallet-secret|invoice)$/ } @args;
    return $t->cli('open', $c, '-o', "$dir/out/liar.bin", @args);
}
($rc, $out, $err) = liar('more');
is($rc, 1, 'a host whose invoice asks more than its offer: exit 1');
like($err, qr/asks 99999 sats, not the 12345 offered; not paying/, '... refused') or diag $err;
unlike($err, qr/pay \d+ sats|bcrt1qxyz/, '... nothing shown to pay');
($rc, $out, $err) = liar('badkey', '--token', $tk1);
is($rc, 1, 'a host that sends a key of another id under this id: exit 1');
like($err, qr/sent a key that is not this copy's/, '... refused') or diag $err;
($rc, $out, $err) = liar('otherid', '--token', $tk1);
is($rc, 1, 'a host that sends another id: exit 1');
like($err, qr/key \(id f{32}\) is not this copy's/, '... refused') or diag $err;
($rc, $out, $err) = liar('free');
is($rc, 1, 'a host that answers 200 to no token: exit 1');
like($err, qr/answered 200 to no token/, '... refused') or diag $err;
($rc, $out, $err) = liar('escape');
is($rc, 1, 'a host whose reason holds terminal escapes: exit 1');
unlike($err, qr/[\x1b\x9b]|\xc2\x9b/, '... none reaches the terminal') or diag $err;
like($err, qr/\\x1b\[2J/, '... shown escaped');
ok(!-e "$dir/out/liar.bin", 'nothing written from a lying host');

# a crafted copy naming another host: no credential goes there
{
    my $other = $l->url('/collect');
    my $c = seal('one.bin', host => $other);
    my $before = length $l->access_log;
    for my $cred (['--token', $tk1], ['--wallet-secret', $code], ['--invoice', '0' x 32, '--claim', 'A' x 43]) {
        ($rc, $out, $err) = $t->cli('open', $c, '-o', "$dir/out/crafted.bin", @$cred, '--host', $api);
        is($rc, 1, "a copy naming another host, $cred->[0]: exit 1");
        like($err, qr/this copy is sold by \Q$other\E, not by --host \Q$api\E: nothing sent/,
             '... names both hosts') or diag $err;
        unlike($err, qr/\Q$tk1\E|\Q$code\E/, '... and prints no credential');
    }
    is(length $l->access_log, $before, '... and the other host was asked nothing');
    ok(!-e "$dir/out/crafted.bin", '... nothing written');
    ($rc, $out, $err) = $t->cli('open', $a, '-o', "$dir/out/slash.mp4", '--token',
                                $t->grant('/films/a.mp4'), '--host', "$api/");
    is($rc, 0, '--host with a trailing /: the same host') or diag $err;
}

# Redis down: 503
$t->stop_redis;
($rc, $out, $err) = $t->cli('open', $a, '-o', "$dir/out/a9.mp4", '--token', $tok5, '--host', $api);
is($rc, 1, 'Redis down: exit 1');
like($err, qr/busy or its storage is down \(503\)/, '... 503') or diag $err;

# ---- bad arguments ---------------------------------------------------------
$t->cli_refuses(
    [ ['open', $a], qr/-o OUT is required/ ],
    [ ['open', '-o', 'x'], qr/exactly one FILE is needed/ ],
    [ ['open', $a, '-o', 'x', '--token', 'a b'], qr/--token: not a token/ ],
    [ ['open', $a, '-o', 'x', '--token', 'abc', '--wallet-secret', 'c'], qr/give one/ ],
    [ ['open', $a, '-o', 'x', '--key', '00' x 32, '--token', 'abc'], qr/give one/ ],
    [ ['open', $a, '-o', 'x', '--invoice', '0' x 32], qr/--invoice and --claim go together/ ],
    [ ['open', $a, '-o', 'x', '--claim', 'A' x 43], qr/--invoice and --claim go together/ ],
    [ ['open', $a, '-o', 'x', '--invoice', 'xyz', '--claim', 'A' x 43], qr/--invoice: not an invoice id/ ],
    [ ['open', $a, '-o', 'x', '--invoice', '0' x 32, '--claim', 'short'], qr/--claim: not a claim/ ],
    [ ['open', $a, '-o', 'x', '--amount', 'lots'], qr/--amount: not a number of sats/ ],
    [ ['open', $a, '-o', 'x', '--amount', '0'], qr/--amount: not a number of sats/ ],
    [ ['open', $a, '-o', 'x', '--amount', '5', '--token', 'abc'], qr/--amount is for a new invoice only/ ],
    [ ['open', $a, '-o', 'x', '--wait', 'soon'], qr/--wait: not a number of seconds/ ],
    [ ['open', $a, '-o', 'x', '--wait', '5', '--token', 'abc'], qr/--wait is for an invoice only/ ],
    [ ['open', $a, '-o', 'x', '--wallet-secret', ''], qr/--wallet-secret: empty/ ],
    [ ['open', $a, '-o', 'x', '--wallet-secret', "bcw1\r\nX-Evil: 1", '--host', $api], qr/--wallet-secret: a recovery code is printable ASCII/ ],
    [ ['open', $a, '-o', 'x', '--token', 'abc'], qr/--host URL is required with --token/ ],
    [ ['open', $a, '-o', 'x', '--wallet-secret', 'bcw1x'], qr/--host URL is required/ ],
    [ ['open', $a, '-o', 'x', '--invoice', '0' x 32, '--claim', 'A' x 43], qr/--host URL is required/ ],
    [ ['open', $a, '-o', 'x', '--key', '00' x 32, '--host', $api], qr/--host is for opening through the host/ ],
    [ ['open', $a, '-o', 'x', '--key', 'zz'], qr/--key: not 64 hex digits/ ],
    [ ['open', $a, '-o', 'x', '--frobnicate'], qr/unknown or incomplete option "--frobnicate"/ ],
);
chmod 0644, "$dir/wallet.code";
($rc, $out, $err) = $t->cli('open', $w, '-o', "$dir/out/w4.mp4", '--wallet-secret', "\@$dir/wallet.code", '--host', $api);
is($rc, 2, 'a code file others can read: refused');
like($err, qr/--wallet-secret: .*must be a regular file that others cannot read/, '... says why');

$t->check_log_clean;
done_testing;
