package ProtocolRef;
# An independent Perl implementation of the selling messages of
# docs/protocol.md (offers, invoice MACs, payment attestation messages,
# minted token ids, catalog MACs), to cross-check libbitcache/invoice.c
# and to build test data.
use strict;
use warnings;
use Digest::SHA qw(hmac_sha256 sha256);
use MIME::Base64 qw(encode_base64url decode_base64url);
use Exporter 'import';
our @EXPORT_OK = qw(keys_of offer offer2 invoice_mac invoice3_mac invoice_record_mac claim_hash payment_msg token_id
                    product_mac product2_mac product3_mac free_token_id free_address_hash wallet_id);

sub keys_of {
    my ($secret) = @_;
    return { token => hmac_sha256('bitcache/v1/token', $secret),
             invoice => hmac_sha256('bitcache/v1/invoice', $secret) };
}

sub lp { pack('n', length $_[0]) . $_[0] }

# offer(keys, {issued, price, confirmations, invoice_ttl, token_ttl, max_downloads, network, wallet, product, title})
sub offer {
    my ($k, $o) = @_;
    my $body = pack('C Q> Q> C N N N C', 1, @$o{qw(issued price confirmations invoice_ttl token_ttl max_downloads network)})
             . lp($o->{wallet}) . lp($o->{product}) . lp($o->{title});
    return encode_base64url($body . hmac_sha256("offer\0" . $body, $k->{invoice}));
}

# version 2 (docs/creators.md): suggested after the price, the giveaway's
# free_total and free_window after the network
sub offer2 {
    my ($k, $o) = @_;
    my $body = pack('C Q> Q> Q> C N N N C N N', 2,
                    map { $_ // 0 } @$o{qw(issued price suggested confirmations invoice_ttl token_ttl
                                           max_downloads network free_total free_window)})
             . lp($o->{wallet}) . lp($o->{product}) . lp($o->{title});
    return encode_base64url($body . hmac_sha256("offer\0" . $body, $k->{invoice}));
}

# invoice_mac(keys, {id(16 bytes), network, index, amount, confirmations, created, expires,
#                    token_ttl, max_downloads, product, wallet, address, spk(bytes), title,
#                    claim_hash(32 bytes)}), record version 2
sub invoice_mac {
    my ($k, $i) = @_;
    die "claim_hash must be 32 bytes" unless length($i->{claim_hash} // '') == 32;
    my $m = "invoice\0" . pack('C', 2) . $i->{id}
          . pack('C N Q> C Q> Q> N N', @$i{qw(network index amount confirmations created expires token_ttl max_downloads)})
          . lp($i->{product}) . lp($i->{wallet}) . lp($i->{address}) . lp($i->{spk})
          . lp($i->{title} // '') . $i->{claim_hash};
    return hmac_sha256($m, $k->{invoice});
}

# record version 3: the offer's price (list) after the amount the buyer chose
sub invoice3_mac {
    my ($k, $i) = @_;
    die "claim_hash must be 32 bytes" unless length($i->{claim_hash} // '') == 32;
    my $m = "invoice\0" . pack('C', 3) . $i->{id}
          . pack('C N Q> Q> C Q> Q> N N', @$i{qw(network index amount list confirmations created expires
                                                  token_ttl max_downloads)})
          . lp($i->{product}) . lp($i->{wallet}) . lp($i->{address}) . lp($i->{spk})
          . lp($i->{title} // '') . $i->{claim_hash};
    return hmac_sha256($m, $k->{invoice});
}

# the MAC of a record of either version, as its v field says (a record
# copied from Redis and written back)
sub invoice_record_mac {
    my ($k, $i) = @_;
    return ($i->{v} // 2) == 3 ? invoice3_mac($k, $i) : invoice_mac($k, $i);
}

# what an invoice keeps of the buyer's claim secret (32 random bytes)
sub claim_hash { sha256($_[0]) }

sub tagged_hash {
    my ($tag, $data) = @_;
    my $t = sha256($tag);
    return sha256($t . $t . $data);
}

# the genesis block hashes of mainnet, testnet, signet, regtest (as getblockhash shows them)
our @GENESIS = qw(000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f
                  000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943
                  00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6
                  0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206);

sub payment_msg {
    my ($network, $id, $spk, $received, $conf, $paid_at) = @_;
    return tagged_hash('bitcache/v2/payment', pack('H64', $GENESIS[$network]) . $id . lp($spk)
                       . pack('Q> N Q>', $received, $conf, $paid_at));
}

sub token_id {
    my ($k, $id) = @_;
    return substr(hmac_sha256("token-id\0" . $id, $k->{token}), 0, 16);
}

sub product_mac {
    my ($k, $product, $price, $wallet, $title) = @_;
    return hmac_sha256("product\0" . lp($product) . pack('Q>', $price) . lp($wallet) . lp($title), $k->{invoice});
}

# version 2 of the catalog record: its seq inside the MAC (price 0: withdrawn)
sub product2_mac {
    my ($k, $product, $seq, $price, $wallet, $title) = @_;
    return hmac_sha256("product2\0" . lp($product) . pack('Q> Q>', $seq, $price) . lp($wallet) . lp($title),
                       $k->{invoice});
}

# version 3: the suggested price and the giveaway (free copies, window) too
sub product3_mac {
    my ($k, $product, $seq, $price, $suggested, $free, $free_window, $wallet, $title) = @_;
    return hmac_sha256("product3\0" . lp($product) . pack('Q> Q> Q> N N', $seq, $price, $suggested, $free,
                                                          $free_window) . lp($wallet) . lp($title),
                       $k->{invoice});
}

# the token id of free copy n (1..) of a product's giveaway
sub free_token_id {
    my ($k, $product, $n) = @_;
    return substr(hmac_sha256("free-copy\0" . lp($product) . pack('Q>', $n), $k->{token}), 0, 16);
}

# the hex that names freeip:<product>:<h> for a client address (its bytes,
# as nginx's $binary_remote_addr)
sub free_address_hash {
    my ($k, $product, $addr) = @_;
    return unpack('H32', hmac_sha256("free-address\0" . lp($product) . $addr, $k->{invoice}));
}

# the id of earlier versions' counters, idx:<id>: the wallet's text hashed
# (docs/protocol.md, "Derivation indexes")
sub wallet_id { unpack('H16', sha256($_[0])) }

1;
