#!/usr/bin/perl
# Attacks on the Bitcache wallet (docs/security.md "The Bitcache wallet"),
# one case per attack, named after it. A case that still breaks the claim
# is a TODO with the exact reproduction.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json encode_json);
use BcTest;

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x "$BcTest::TOOLS/wallet_fixture";

my $t = BcTest->new;
$t->start_redis;
my $dir = $t->dir;

# A Redis writer sees every command the module sends (MONITOR, or a man in
# the middle): here a proxy that keeps the buy script's arguments
my $cap = "$dir/buy-args";
my ($armed, $last);   # (in the proxy) HDEL this wtop entry once its read is answered
my $proxy = $t->start_redis_proxy('proxy', sub {
    my ($cmd, $reply) = @_;
    if ((@$cmd == 32 || @$cmd == 25) && $cmd->[0] =~ /^EVAL/) {
        open my $fh, '>>', $cap or die;
        print $fh encode_json($cmd), "\n";
        close $fh;
    }
    # the credit's read: MULTI; HGETALL wal; LRANGE wled; HGET wtop; EXEC
    if (-e "$dir/arm" && @$cmd == 3 && $cmd->[0] eq 'HGET' && $cmd->[1] =~ /:wtop:/
        && ($last // '') eq 'LRANGE') {
        $armed = [@$cmd[1, 2]];
    } elsif ($armed && $cmd->[0] eq 'EXEC') {
        $t->redis('HDEL', @$armed);     # after the module's read, before its script
        undef $armed;
        unlink "$dir/arm";
    }
    $last = $cmd->[0];
    return $reply;
});
sub captured {
    open my $fh, '<', $cap or return ();
    return map { decode_json($_) } <$fh>;
}

my %file = map { $_ => $t->make_file("files/$_.bin", 2000 + length $_) } qw(a b c d e f g h);
my $http = $t->wallet_http(<<'LOC', price => 1000);
        bitcache_wallets on;
        location /files/ { bitcache on; bitcache_wallet_autobuy on; }
        location /course/ { bitcache on; bitcache_product /course/; bitcache_wallet_autobuy on; }
        location /short/ { bitcache on; bitcache_token_ttl 2s; }
LOC
$t->make_file('course/index.html', 100);
$t->make_file('short/s.bin', 300);
$http =~ s/%%REDIS%%/127.0.0.1:$proxy/;
$t->start_nginx($http);

sub wallet {
    my ($sats) = @_;
    my $w = $t->wallet_open;
    $t->wallet_credit($w->{wallet}, $sats) if $sats;
    return $w;
}

# ---- a Redis writer keeps the signed records of a purchase that was never
# written (the script answered "key": nothing charged) and plants them ----
{
    my $w = wallet(5000);
    my $wid = $w->{wallet};
    is($t->wallet_balance($w->{code}), 5000, 'a wallet of 5000 sats');
    $t->redis('SET', "bitcache:widem:$wid:k1", '/files/other.bin');
    my $r = $t->wallet_req('POST', '/wallet/buy', $w->{code},
                           { offer => $t->offer_of('/files/a.bin'), key => 'k1' });
    is($r->{status}, 409, 'the key made to name another product: 409, nothing bought');
    my ($args) = grep { $_->[26] eq '/files/a.bin' } captured();
    ok($args, 'the buy script was sent the signed ownership and entry');
    my ($product, $own, $uses, $exp) = @$args[26, 27, 28, 29];
    my ($phex) = $args->[6] =~ /tok:([0-9a-f]{32})$/;
    $t->redis('HSET', "bitcache:wown:$wid", $product, $own);
    $t->redis('HSET', "bitcache:tok:$phex", 'uses', $uses, 'product', $product,
              'expires', $exp, "b:$product", '1125899906842624');
    $r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $t->offer_of('/files/a.bin') });
    ok(!($r->{status} == 200 && $r->{json}{state} eq 'owned'),
       'a Redis writer plants the ownership of an unwritten purchase: not owned for free')
        or diag("answer $r->{status}: state $r->{json}{state}, charged "
                . ($r->{json}{charged_sats} // '?') . ", balance " . ($r->{json}{balance_sats} // '?'));
    is($r->{status}, 409, '... 409: its debit is not in the ledger');
    my $g = $t->get("/files/a.bin?bitcache_token=" . ($r->{json}{token} // 'x'));
    isnt($g->{status}, 200, '... and no token downloads a');
    is($t->wallet_balance($w->{code}), 5000, '... nothing charged');
    # the same once the ledger has an entry of that seq (another purchase)
    $r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $t->offer_of('/files/b.bin') });
    is($r->{json}{state}, 'bought', 'b bought: entry 2 is its debit');
    $t->redis('HSET', "bitcache:wown:$wid", $product, $own);
    $t->wallet_req('POST', '/wallet/settings', $w->{code}, 'max_auto_price=5000');
    $g = $t->get('/files/a.bin', Authorization => "Bitcache $w->{code}");
    isnt($g->{status}, 200, 'the planted ownership (entry 2, the debit of b): auto-buy GET of a not served for free')
        or diag("balance " . $t->wallet_balance($w->{code}));
    $r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $t->offer_of('/files/a.bin') });
    is($r->{status}, 409, '... nor bought as owned over the API (409)');
    # a real ownership still downloads again, free
    $r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $t->offer_of('/files/b.bin') });
    is($r->{json}{state}, 'owned', 'the real ownership of b: owned');
    is($r->{json}{charged_sats}, 0, '... not charged again');
    $g = $t->get('/files/b.bin', Authorization => "Bitcache $w->{code}");
    is($g->{status}, 200, '... and an auto-buy GET of b is served under its token');
    is($t->wallet_balance($w->{code}), 4000, '... the balance paid for b only');
    # the audit, at least, finds the planted ownership (no debit of it)
    my (undef, $xonly) = $t->watcher_key;
    my ($rc, $out) = $t->cli('wallet', 'audit', '--redis', $t->redis_addr, '--secret', "$dir/secret",
                             '--watcher-key', $xonly, '--no-freeze', $wid);
    is($rc, 1, 'bitcache wallet audit finds the planted ownership: exit 1') or diag $out;
    like($out, qr{ownership record names entry 2, which is not (a|the) purchase}, '... an ownership of no purchase') or diag $out;
}

# ---- ... or puts its signed debit entry into the ledger, where the
# history shows a download link with a token for it ----
{
    my $w = wallet(5000);
    my $wid = $w->{wallet};
    $t->redis('SET', "bitcache:widem:$wid:k2", '/files/other.bin');
    my $r = $t->wallet_req('POST', '/wallet/buy', $w->{code},
                           { offer => $t->offer_of('/files/d.bin'), key => 'k2' });
    is($r->{status}, 409, 'a purchase of d refused by the script (key): nothing charged');
    my ($args) = grep { $_->[26] eq '/files/d.bin' } captured();
    my ($entry, $product, $uses, $exp) = @$args[25, 26, 28, 29];
    my ($phex) = $args->[6] =~ /tok:([0-9a-f]{32})$/;
    # two real purchases: the entry of d would have been seq 2 (of 3)
    for my $f (qw(e f)) {
        $r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $t->offer_of("/files/$f.bin") });
        is($r->{json}{state}, 'bought', "$f bought");
    }
    $t->redis('LSET', "bitcache:wled:$wid", 1, $entry);
    $t->redis('HSET', "bitcache:tok:$phex", 'uses', $uses, 'product', $product,
              'expires', $exp, "b:$product", '1125899906842624');
    for my $page (['/wallet/history', 'history'], ['/wallet/history?before=3&limit=5', 'history before 3'],
                  ['/wallet', 'wallet page']) {
        $r = $t->wallet_req('GET', $page->[0], $w->{code});
        my @e = @{ $r->{json}{entries} // $r->{json}{purchases} // [] };
        my ($d) = grep { ($_->{product} // '') eq '/files/d.bin' } @e;
        ok(!$d || !$d->{download_url}, "the planted entry: $page->[1] gives no download link for d")
            or diag(encode_json($d));
        if ($d && $d->{download_url}) {
            my $g = $t->get($d->{download_url});
            isnt($g->{status}, 200, '... which would download d for free');
        }
    }
    is($t->wallet_balance($w->{code}), 3000, '... the balance paid for e and f only');
}

# ---- ... or appends it to the ledger (chained to the last entry, but
# past the state's head) to make `bitcache sales` owe a creator for a
# purchase that never happened ----
{
    my (undef, $xonly) = $t->watcher_key;
    my @S = ('--redis', $t->redis_addr, '--secret', "$dir/secret", '--watcher-key', $xonly);
    my $w = wallet(5000);
    my $wid = $w->{wallet};
    $t->redis('SET', "bitcache:widem:$wid:k3", '/files/other.bin');
    my $r = $t->wallet_req('POST', '/wallet/buy', $w->{code},
                           { offer => $t->offer_of('/files/g.bin'), key => 'k3' });
    is($r->{status}, 409, 'a purchase of g refused by the script (key): nothing charged');
    my ($args) = grep { $_->[26] eq '/files/g.bin' } captured();
    my $sales = sub {
        my ($rc, $out, $err) = $t->cli('sales', @S, '--format', 'json', '--product', '/files/g.bin');
        my $j = eval { decode_json($out) } || {};
        return ($j->{total}{wallet}{count} // -1, $out);
    };
    my ($before) = $sales->();
    $t->redis('RPUSH', "bitcache:wled:$wid", $args->[25]);
    my ($after, $out) = $sales->();
    is($after, $before, 'the refused purchase\'s entry appended past the head: bitcache sales counts no sale of g')
        or diag($out);
}

# ---- a third party hands a buyer's script URLs of files that do not exist
# (a link list, a typo): with bitcache_product $uri each one is a product
# of its own, and auto-buy charged for every one, then answered 404 ----
{
    my $w = wallet(10000);
    my %A = (Authorization => "Bitcache $w->{code}");
    is($t->wallet_req('POST', '/wallet/settings', $w->{code}, 'max_auto_price=5000')->{status}, 200,
       'max_auto_price 5000');
    mkdir "$dir/html/files/sub";
    for my $u ('/files/nope.bin', '/files/nope2.bin', '/files/a.bin/', '/files/sub/', '/files/sub') {
        my $r = $t->get($u, %A);
        isnt($r->{status}, 200, "auto-buy of $u (no file there): not served");
        is($t->wallet_balance($w->{code}), 10000, "... and nothing charged for it");
    }
    my $r = $t->get('/files/nope.bin', %A, Accept => 'application/json');
    my $j = eval { decode_json($r->{content}) } || {};
    like($j->{reason} // '', qr/no file/, '... the 402 says why') or diag $r->{content};
    $r = $t->get('/files/h.bin', %A);
    is($r->{status}, 200, 'a file that exists is still auto-bought');
    is($t->wallet_balance($w->{code}), 9000, '... for its price');
    $r = $t->get('/course/', %A);
    is($r->{status}, 200, 'a directory sold as one product (bitcache_product /course/): its index auto-bought');
    is($t->wallet_balance($w->{code}), 8000, '... once');
    $r = $t->get('/course/index.html', %A);
    is($r->{status}, 200, '... and owned for its files');
    is($t->wallet_balance($w->{code}), 8000, '... not charged again');
}

# ---- the MAC'd state of a credit the script did not write (a fork of the
# state it read) written over a later purchase of the same seq ----
{
    my $w = wallet(5000);
    my $wid = $w->{wallet};
    my $r = $t->wallet_req('POST', '/wallet/topups', $w->{code}, 'amount=2000');
    my $inv = $r->{json}{id};
    $t->{claims}{$inv} = $r->{json}{claim};
    $t->pay_invoice($inv, 2000, 6);
    open my $fh, '>', "$dir/arm" or die; close $fh;
    $t->invoice_status($inv);           # its credit: the script answers "unknown"
    my ($args) = grep { @$_ == 25 && $_->[24] eq $inv } captured();
    ok($args, 'the credit script was sent a MAC\'d credited state, and did not write it');
    is($t->wallet_balance($w->{code}) // -1, 5000, '... not credited (wtop was emptied meanwhile)');
    $t->redis('HSET', "bitcache:wtop:$wid", $inv, 0);
    $r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $t->offer_of('/files/c.bin') });
    is($r->{json}{state}, 'bought', 'c bought: entry 2 is its debit, balance 4000');
    my $tok = $r->{json}{token};
    # the writer puts the fork in place: the credited state, its entry instead of the debit
    $t->redis('HSET', "bitcache:wal:$wid", @$args[7 .. 22]);
    $t->redis('RPOP', "bitcache:wled:$wid");
    $t->redis('RPUSH', "bitcache:wled:$wid", $args->[23]);
    $t->invoice_status($inv);
    my $bal = $t->wallet_balance($w->{code});
    ok(!defined $bal || $bal <= 6000,
       'the fork (credited, the purchase of c gone) is refused: c is never had for free')
        or diag("balance $bal, and c's token downloads: " . $t->get("/files/c.bin?bitcache_token=$tok")->{status});
    like($t->error_log, qr/wallet $wid: its state is a fork: seq 2 with another head/,
         '... logged as a fork: the mark pins the head that stood at its seq');
}

# ---- anyone polls the status of a credited top-up (no claim needed): each
# poll read the wallet's whole ledger (a wallet of many cheap purchases
# made it a heavy read for a cheap request) ----
{
    my $w = wallet(0);
    my $inv = $t->wallet_topup_paid($w->{code}, 3000);
    is($t->wallet_balance($w->{code}), 3000, 'a top-up credited');
    my $before = $t->redis_calls('lrange');
    $t->invoice_status($inv->{id}, '') for 1 .. 5;
    is($t->redis_calls('lrange'), $before, 'five polls of its status read no ledger');
    is($t->invoice_status($inv->{id})->{credited}, JSON::PP::true(), '... and still say credited')
        or diag(encode_json($t->invoice_status($inv->{id})));
}

# ---- a buyer's script retries an idempotency key after the token of its
# purchase expired: the script said "replay" again and again (503 busy) ----
{
    my $w = wallet(3000);
    my $offer = $t->offer_of('/short/s.bin');
    my $r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $offer, key => 'kshort' });
    is($r->{json}{state}, 'bought', 'bought with key kshort (a token of 2 s)');
    sleep 3;
    $r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $offer, key => 'kshort' });
    is($r->{status}, 409, 'the same key after its token expired: 409, not 503 busy');
    like($r->{json}{reason} // '', qr/new key/, '... saying to use a new key');
    is($t->wallet_balance($w->{code}), 2000, '... and charged once');
    $r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $offer, key => 'kshort2' });
    is($r->{json}{state}, 'bought', 'a new key buys it anew');
    is($t->wallet_balance($w->{code}), 1000, '... for its price');
}

$t->check_log_clean;
done_testing;
