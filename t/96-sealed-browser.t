#!/usr/bin/perl
# The sealed files' opener in headless Chromium (docs/sealed.md, "In the
# browser"; t/node/open-page.js): a creator seals files for this host, a
# plain second nginx (no Bitcache) mirrors the copies; the buyer downloads
# a copy from the mirror, opens <api>/open, chooses it: the page shows the
# title and price, pays an invoice (the address read from the page, paid by
# the regtest node's wallet and mined, the watcher attests), fetches the
# key and decrypts into a download whose bytes are the original's (several
# chunks, and 20 MiB). Opening it again uses the kept token (no second
# invoice); a funded Bitcache wallet buys; a copy with one byte flipped in a
# middle chunk is refused with the chunk named and no completed download;
# a copy of another host is sent nowhere; the CSP is the payment page's
# plus the worker and the download frame, and nothing violates it; the key
# is imported not extractable and never stored (localStorage holds the
# token only). Screenshots in t/artifacts/96-*.png.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use BcTest;

my $root = $BcTest::ROOT;
my $driver = "$root/t/node/open-page.js";
my $art = "$root/t/artifacts";

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x $BcTest::CLI;
plan skip_all => 'chromium missing (make deps)' unless -x '/usr/bin/chromium';
plan skip_all => 'playwright-core missing (make deps)'
    unless -d "$root/t/node/node_modules/playwright-core";
mkdir $art;

my $t = BcTest->new;
$t->start_redis;
$t->start_node;
$t->fund_wallet;
my $film = $t->make_file('films/film.bin', 300_000);
my $song = $t->make_file('films/song.bin', 70_000);
my $big = $t->make_file('films/big.bin', 20 * 1048576 + 12345);
my $gift = $t->make_file('gifts/gift.bin', 5000);
my $tune = $t->make_file('pwyw/tune.bin', 9000);
$t->start_nginx($t->wallet_http(<<'LOC'));
        bitcache_wallets on;
        location /films/ {
            bitcache on;
            bitcache_price 5000;
            bitcache_confirmations 1;
            bitcache_max_downloads 10;
        }
        location /gifts/ { bitcache on; bitcache_price 7000; bitcache_free_first 1; }
        location /pwyw/ { bitcache on; bitcache_price 3000; bitcache_suggested_price 8000; bitcache_confirmations 1; }
LOC
$t->start_watcher;
my $api = $t->url('/bitcache');

# the creator seals for this host; the copies go to the mirror
my $mirror = BcTest->new;
mkdir $mirror->dir . '/html/copies';
sub seal {
    my ($file, $out, $product, %o) = @_;
    my ($rc, undef, $err) = $t->cli('seal', $t->dir . "/html/$file", $mirror->dir . "/html/copies/$out",
                                    '--product', $product, '--host', $o{host} // $api,
                                    ($o{title} ? ('--title', $o{title}) : ()),
                                    ($o{chunk} ? ('--chunk-size', $o{chunk}) : ()),
                                    '--secret', $t->dir . '/secret', '--redis', $t->redis_addr);
    is($rc, 0, "sealed $out") or diag $err;
}
seal('films/film.bin', 'film.bin.sealed', '/films/film.bin', title => 'A Film', chunk => 16384);
seal('films/big.bin', 'big.bin.bcsealed', '/films/big.bin', title => 'A Big Film');
seal('films/song.bin', 'song.sealed', '/films/song.bin', title => 'A Song', chunk => 8192);
seal('gifts/gift.bin', 'gift.sealed', '/gifts/gift.bin', title => 'A Gift');
seal('pwyw/tune.bin', 'tune.sealed', '/pwyw/tune.bin', title => 'A Tune');
seal('films/film.bin', 'elsewhere.sealed', '/films/elsewhere.bin', host => 'http://other.example/bitcache');
$mirror->start_nginx(<<'CONF');
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        location /copies/ { }
    }
CONF

# the buyer's copies, downloaded from the mirror
my $dl = $t->dir . '/buyer';
mkdir $dl;
my %copy;
for my $name (qw(film.bin.sealed big.bin.bcsealed song.sealed gift.sealed tune.sealed elsewhere.sealed)) {
    my $r = $mirror->get("/copies/$name");
    is($r->{status}, 200, "the mirror serves $name");
    open my $fh, '>', "$dl/$name" or die;
    binmode $fh;
    print $fh $r->{content};
    close $fh;
    $copy{$name} = $r->{content};
}
ok(length($copy{'film.bin.sealed'}) > 300_000 + 18 * 16, 'the film copy holds 19 chunks and the header');

# one flipped byte in chunk 9 of 19 (16400 bytes each after the header)
my $hlen = 44 + length($api) + length('/films/film.bin') + length('A Film');
my $tampered = $copy{'film.bin.sealed'};
substr($tampered, $hlen + 9 * 16400 + 100, 1) ^= "\x01";
sub put {
    my ($name, $bytes) = @_;
    open my $fh, '>', "$dl/$name" or die;
    binmode $fh;
    print $fh $bytes;
    close $fh;
}
put('tampered.sealed', $tampered);
# refused as the C reader refuses: one byte appended; cut after chunk 5
# (chunk 4 is then the last, not sealed as such); not a sealed file; cut
# inside the header; an empty last chunk after others
put('appended.sealed', $copy{'film.bin.sealed'} . "\0");
put('cut.sealed', substr($copy{'film.bin.sealed'}, 0, $hlen + 5 * 16400));
put('notsealed.sealed', 'NOTSEALED' . ("\0" x 200));
put('headcut.sealed', substr($copy{'film.bin.sealed'}, 0, 60));
# a header made by hand for this host, whose product has a ".." segment
# (fetch would resolve it to another URL of the API): refused unsent
{
    my $lp = sub { pack('n', length $_[0]) . $_[0] };
    put('dotdot.sealed', 'BCSEALED' . "\x01\x01" . pack('N', 16384) . ("\x11" x 16) . ("\x22" x 8)
        . $lp->($api) . $lp->('/films/../bitcache/wallet') . $lp->('Dots') . ("\0" x 40));
}
# the 20 MiB copy with a flipped byte in chunk 200 of 321 (64 KiB chunks):
# refused after many chunks were already streamed to the download
{
    my $bh = 44 + length($api) + length('/films/big.bin') + length('A Big Film');
    my $b = $copy{'big.bin.bcsealed'};
    substr($b, $bh + 200 * 65552 + 7, 1) ^= "\x80";
    put('bigtampered.sealed', $b);
}
put('emptylast.sealed', substr($copy{'film.bin.sealed'}, 0, $hlen + 2 * 16400) . ("\0" x 16));

sub ids { map { /inv:([0-9a-f]{32})$/ ? $1 : () } @{ $t->redis('KEYS', 'bitcache:inv:*') } }

sub run {
    my ($name, @opt) = @_;
    my $out = "$dl/$name";
    mkdir $out;
    open my $p, '-|', 'node', $driver, "$api/open", '--downloads', $out,
        '--rpc', join(',', $t->{node_port}, $t->{wallet_port}, $BcTest::NODE_KEY),
        '--screenshot', "$art/96-$name", @opt or die;
    my $json = do { local $/; <$p> };
    close $p;
    my $r = eval { decode_json($json) } || { ok => 0, error => "no JSON: $json" };
    ok($r->{ok}, "$name: open-page.js ran") or diag $r->{error};
    is_deeply($r->{external}, [], "$name: no request to another host");
    my @console = grep { !/Failed to load resource: .* status of 402/ } @{ $r->{console} };
    is_deeply(\@console, [], "$name: no console error, no CSP violation") or diag join "\n", @console;
    is_deeply($r->{page_errors}, [], "$name: no script error");
    return $r;
}

sub slurp { open my $f, '<', $_[0] or return undef; binmode $f; local $/; <$f> }

# the key: imported not extractable, never exported; storage: tokens only
sub key_kept_in {
    my ($name, $s) = @_;
    my @imp = @{ $s->{imports} || [] };
    ok(@imp && !grep({ $_->{extractable} || $_->{key_extractable} || $_->{exports} } @imp),
       "$name: the key imported not extractable (and does not export)");
    my @keys = keys %{ $s->{storage} || {} };
    ok(!grep({ !/^bitcache-token:\/films\/\w+\.bin$/ } @keys), "$name: localStorage holds only tokens, per product");
    ok(!grep({ /^[0-9a-f]{64}$/ } values %{ $s->{storage} || {} }), "$name: ... and no key");
}

# ---- the page, its scripts and their headers -------------------------------------
{
    my $r = $t->get('/bitcache/open');
    is($r->{status}, 200, 'GET <api>/open');
    my $csp = $r->{headers}{'content-security-policy'} // '';
    like($csp, qr/^default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'nonce-[A-Za-z0-9_-]{22}'; connect-src 'self'; worker-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'$/,
         'the CSP: the payment page\'s, plus the worker and the download frame');
    my ($nonce) = $csp =~ /'nonce-([^']+)'/;
    like($r->{content}, qr/<script nonce="\Q$nonce\E" src="\/bitcache\/open.js"><\/script>/,
         'the one script carries the nonce');
    unlike($r->{content}, qr/<script(?![^>]*src=)/, 'no inline script');
    isnt(($t->get('/bitcache/open')->{headers}{'content-security-policy'} // '') =~ s/.*nonce-([^']+).*/$1/r, $nonce,
         'a fresh nonce per response');
    is($r->{headers}{'cross-origin-opener-policy'}, 'same-origin', 'COOP same-origin');
    is($r->{headers}{'cache-control'}, 'no-store', 'no-store');
    like($r->{content}, qr/<noscript>.*needs? JavaScript|<noscript>.*with JavaScript/s, 'noscript: decryption needs JavaScript');
    like($r->{content}, qr/<noscript>.*bitcache open/s, 'noscript: ... and names `bitcache open`');
    is($t->http('HEAD', '/bitcache/open')->{status}, 200, 'HEAD <api>/open');
    is($t->http('POST', '/bitcache/open')->{status}, 405, 'POST <api>/open: 405');
    for my $js (qw(open.js open-sw.js)) {
        my $s = $t->get("/bitcache/$js", Origin => 'http://evil.example');
        is($s->{status}, 200, "GET <api>/$js");
        like($s->{headers}{'content-type'}, qr{^text/javascript}, "$js: JavaScript");
        is($s->{headers}{'cross-origin-resource-policy'}, 'same-origin', "$js: same origin only");
        ok(!$s->{headers}{'access-control-allow-origin'}, "$js: no CORS");
        is($s->{headers}{'x-content-type-options'}, 'nosniff', "$js: nosniff");
        ok(!$s->{headers}{'service-worker-allowed'}, "$js: no Service-Worker-Allowed (its scope is under it)");
    }
    is($t->get('/bitcache/open/save/x/y')->{status}, 404, 'the worker\'s save URL without the worker: 404');
}

# ---- buy with an invoice, open; again with the kept token; refused copies ---------
{
    my @before = ids();
    my $r = run('invoice',
                '--open', "$dl/film.bin.sealed", '--then', 'pay',
                '--open', "$dl/film.bin.sealed",
                '--open', "$dl/tampered.sealed",
                '--open', "$dl/elsewhere.sealed",
                map { ('--open', "$dl/$_.sealed") } qw(appended cut notsealed headcut emptylast dotdot));
    my ($paid, $again, $bad, $foreign, $appended, $cut, $not, $headcut, $emptylast, $dotdot) = @{ $r->{steps} };
    like($r->{headers}{'content-security-policy'} // '', qr/worker-src 'self'; frame-src 'self'/, 'the page\'s CSP in the browser');
    is_deeply($r->{sw}, ["$api/open/"], 'the service worker, scope <api>/open/');

    is($paid->{first}{state}, 'offer', 'a copy without a token: the offer');
    is($paid->{first}{title}, 'A Film', '... its title');
    is($paid->{first}{product}, '/films/film.bin', '... its product');
    like($paid->{first}{price} // '', qr/^5000 sats \(0\.00005 BTC\)$/, '... its price');
    ok($paid->{first}{pay} && $paid->{first}{wallet_button}, '... pay, or pay from the wallet');
    ok(!$paid->{first}{free_button}, '... no free copy (no giveaway)');
    like($paid->{invoice}{address} // '', qr/^bcrt1/, "the invoice's address on the page");
    is($paid->{invoice}{amount}, '5000', '... its amount');
    like($paid->{invoice}{bip21} // '', qr/^bitcoin:bcrt1\w+\?amount=0\.00005/, '... a bitcoin: link');
    like($paid->{invoice}{page} // '', qr{^\Q$api\E/invoices/[0-9a-f]{32}$}, '... and the invoice page');
    is($paid->{state}, 'opened', 'paid: the page opened the copy') or diag explain $paid;
    is(scalar @{ $paid->{downloads} }, 1, 'one download');
    my $d = $paid->{downloads}[0] || {};
    is($d->{suggested}, 'film.bin', 'named after the copy, without .sealed');
    ok(!$d->{failure} && defined $d->{path} && slurp($d->{path}) eq $film, 'the download is the original, byte for byte');
    like($paid->{mb_per_sec} // '', qr/^\d+(\.\d)?$/, "the page's rate ($paid->{rate})");
    my @made = grep { my $i = $_; !grep { $_ eq $i } @before } ids();
    is(scalar @made, 1, 'one invoice');
    my ($tk) = values %{ $paid->{storage} };
    like($tk // '', qr/^\S{20,}$/, 'the token kept in localStorage');
    key_kept_in('paid', $paid);

    is($again->{first}{state}, 'opened', 'opened again: straight from the kept token');
    is(scalar(ids()), scalar(@before) + 1, '... no second invoice');
    $d = $again->{downloads}[0] || {};
    ok(!$d->{failure} && defined $d->{path} && slurp($d->{path}) eq $film, '... the original again');

    is($bad->{state}, 'refused', 'the tampered copy: refused');
    like($bad->{message} // '', qr/chunk 9 of 19: it does not verify/, '... naming chunk 9');
    ok(!grep({ !$_->{failure} } @{ $bad->{downloads} }), '... no completed download')
        or diag explain $bad->{downloads};

    is($foreign->{state}, 'foreign', 'a copy of another host: refused');
    like($foreign->{message} // '', qr{sold by http://other\.example/bitcache}, '... naming its host');
    ok(!grep({ /elsewhere/ } @{ $r->{requests} }), '... and nothing asked about it');

    is($appended->{state}, 'refused', 'a byte appended: refused');
    like($appended->{message} // '', qr/chunk 18 of 19: it does not verify/, '... at the last chunk');
    ok(!grep({ !$_->{failure} } @{ $appended->{downloads} }), '... no completed download');
    is($cut->{state}, 'refused', 'cut after a chunk: refused');
    like($cut->{message} // '', qr/chunk 4 of 5: it does not verify/, '... its last chunk is not marked last');
    ok(!grep({ !$_->{failure} } @{ $cut->{downloads} }), '... no completed download');
    like($not->{message} // '', qr/not a sealed file/, 'not a sealed file: refused');
    like($headcut->{message} // '', qr/ends inside its header/, 'cut inside the header: refused');
    like($emptylast->{message} // '', qr/chunk 2: an empty last chunk after others/, 'an empty last chunk after others: refused');
    like($dotdot->{message} // '', qr/its product is not a path this host can sell/, 'a product with "..": refused');
    ok(!grep({ m{/bitcache/wallet|\.\.} } @{ $r->{requests} }), '... and not sent (no request to another API URL)');
}

# ---- 20 MiB, and the kept token of one product is not another's -----------------
{
    my $r = run('big', '--open', "$dl/big.bin.bcsealed", '--then', 'pay', '--open', "$dl/bigtampered.sealed");
    my ($s, $bad) = @{ $r->{steps} };
    is($s->{state}, 'opened', '20 MiB: paid and opened') or diag explain $s;
    my $d = $s->{downloads}[0] || {};
    is($d->{suggested}, 'big.bin', '... named without .bcsealed');
    ok(!$d->{failure} && defined $d->{path} && -s $d->{path} == length($big) && slurp($d->{path}) eq $big,
       '... the original, byte for byte');
    key_kept_in('big', $s);
    is($bad->{state}, 'refused', '20 MiB, one byte flipped in chunk 200: refused');
    like($bad->{message} // '', qr/chunk 200 of 321: it does not verify/, '... naming chunk 200');
    is(scalar @{ $bad->{downloads} }, 1, '... after its download had started (chunks 0 to 194 verified)');
    ok(($bad->{downloads}[0] || {})->{failure}, "... and the download failed (@{[ ($bad->{downloads}[0] || {})->{failure} // 'completed' ]})");
}

# ---- the Bitcache wallet of this browser --------------------------------------------
{
    my $w = $t->wallet_open;
    $t->wallet_credit($w->{wallet}, 20000);
    my $r = run('wallet', '--root-cookie', "bitcache_wallet=$w->{code}",
                '--open', "$dl/song.sealed", '--then', 'wallet');
    my ($s) = @{ $r->{steps} };
    ok($s->{first}{wallet_button}, 'the wallet\'s button');
    is($s->{state}, 'opened', 'bought from the wallet and opened') or diag explain $s;
    my $d = $s->{downloads}[0] || {};
    is($d->{suggested}, 'song', 'named without .sealed');
    ok(!$d->{failure} && defined $d->{path} && slurp($d->{path}) eq $song, '... the original');
    is($t->wallet_balance($w->{code}), 15000, 'the wallet paid the price');

    my $g = run('gift', '--open', "$dl/gift.sealed", '--then', 'free', '--open', "$dl/tune.sealed", '--then', 'pay');
    ($s, my $tn) = @{ $g->{steps} };
    ok($tn->{first}{pwyw}, 'pay what you want: the amount field');
    is($tn->{invoice}{amount}, '8000', '... the invoice of the suggested price');
    is($tn->{state}, 'opened', '... paid and opened') or diag explain $tn;
    ok(!(($tn->{downloads}[0] || {})->{failure}) && slurp(($tn->{downloads}[0] || {})->{path} // '/nonexistent') eq $tune,
       '... the original');
    ok($s->{first}{free_button}, 'a giveaway: the free copy\'s button');
    is($s->{state}, 'opened', 'a free copy, opened') or diag explain $s;
    $d = $s->{downloads}[0] || {};
    ok(!$d->{failure} && defined $d->{path} && slurp($d->{path}) eq $gift, '... the original');
}

# ---- without service workers: the Blob -----------------------------------------------
{
    my $r = run('blob', '--no-sw', '--open', "$dl/film.bin.sealed", '--then', 'pay');
    my ($s) = @{ $r->{steps} };
    is($s->{state}, 'opened', 'no service worker: opened') or diag explain $s;
    my $d = $s->{downloads}[0] || {};
    ok(!$d->{failure} && defined $d->{path} && slurp($d->{path}) eq $film, '... saved from a Blob, the original');
    is($r->{sw}, undef, '... and no worker');
}

# ---- the host sealed the product again with a new key: an old copy cannot open -----
{
    my ($rc, undef, $err) = $t->cli('seal', $t->dir . '/html/films/song.bin', $t->dir . '/song-new.sealed',
                                    '--product', '/films/song.bin', '--host', $api, '--new-key',
                                    '--secret', $t->dir . '/secret', '--redis', $t->redis_addr);
    is($rc, 0, 'sealed again with --new-key') or diag $err;
    my @before = ids();
    my $r = run('rekeyed', '--open', "$dl/song.sealed", '--then', 'pay');
    my ($s) = @{ $r->{steps} };
    is($s->{state}, 'mismatch', 'an old copy: its key id is not the one on sale');
    like($s->{mismatch} // '', qr/sealed with another key/, '... the page explains');
    ok(!$s->{pay} && !$s->{wallet_button}, '... and offers no way to pay');
    is(scalar(ids()), scalar(@before), '... no invoice');
}

$t->check_log_clean;
done_testing();
