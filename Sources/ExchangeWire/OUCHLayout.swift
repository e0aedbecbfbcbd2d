// OUCH 4.2 message layouts, written down once. Offsets count from the message-type byte
// (offset 0); every message's last field ends at `length`. Integers are big-endian u32
// (shares, price, time in force, minimum quantity) or u64 (timestamp, reference, match);
// alpha fields are left-justified and space padded.
//
// Constants here and elsewhere in the module are `@inlinable` computed properties, not
// `static let`s: a `public static let` is reached through an addressor call from another
// module, where a computed literal folds into the caller's code.

public enum OUCHLayout {
    // MARK: Client → exchange

    /// `O` Enter Order, 49 bytes.
    public enum EnterOrder {
        @inlinable public static var length: Int { 49 }
        @inlinable public static var token: Int { 1 }             // a14
        @inlinable public static var side: Int { 15 }             // a1  B S T E
        @inlinable public static var shares: Int { 16 }           // u32
        @inlinable public static var stock: Int { 20 }            // a8
        @inlinable public static var price: Int { 28 }            // u32, 0x7FFFFFFF = market
        @inlinable public static var timeInForce: Int { 32 }      // u32
        @inlinable public static var firm: Int { 36 }             // a4, blank = account default
        @inlinable public static var display: Int { 40 }          // a1
        @inlinable public static var capacity: Int { 41 }         // a1
        @inlinable public static var intermarketSweep: Int { 42 } // a1
        @inlinable public static var minimumQuantity: Int { 43 }  // u32
        @inlinable public static var crossType: Int { 47 }        // a1
        @inlinable public static var customerType: Int { 48 }     // a1
    }

    /// `U` Replace Order, 47 bytes.
    public enum ReplaceOrder {
        @inlinable public static var length: Int { 47 }
        @inlinable public static var existingToken: Int { 1 }     // a14
        @inlinable public static var replacementToken: Int { 15 } // a14
        @inlinable public static var shares: Int { 29 }           // u32
        @inlinable public static var price: Int { 33 }            // u32
        @inlinable public static var timeInForce: Int { 37 }      // u32
        @inlinable public static var display: Int { 41 }          // a1
        @inlinable public static var intermarketSweep: Int { 42 } // a1
        @inlinable public static var minimumQuantity: Int { 43 }  // u32
    }

    /// `X` Cancel Order, 19 bytes.
    public enum CancelOrder {
        @inlinable public static var length: Int { 19 }
        @inlinable public static var token: Int { 1 }             // a14
        @inlinable public static var shares: Int { 15 }           // u32, new open size (0 = cancel all)
    }

    /// `M` Modify Order, 20 bytes.
    public enum ModifyOrder {
        @inlinable public static var length: Int { 20 }
        @inlinable public static var token: Int { 1 }             // a14
        @inlinable public static var side: Int { 15 }             // a1
        @inlinable public static var shares: Int { 16 }           // u32, new open size
    }

    // MARK: Exchange → client (timestamp u64 at 1 in every message)

    @inlinable public static var timestamp: Int { 1 }

    /// `S` System Event, 10 bytes.
    public enum SystemEvent {
        @inlinable public static var length: Int { 10 }
        @inlinable public static var eventCode: Int { 9 }         // a1  S E
    }

    /// `A` Accepted, 66 bytes.
    public enum Accepted {
        @inlinable public static var length: Int { 66 }
        @inlinable public static var token: Int { 9 }
        @inlinable public static var side: Int { 23 }
        @inlinable public static var shares: Int { 24 }
        @inlinable public static var stock: Int { 28 }
        @inlinable public static var price: Int { 36 }
        @inlinable public static var timeInForce: Int { 40 }
        @inlinable public static var firm: Int { 44 }
        @inlinable public static var display: Int { 48 }
        @inlinable public static var reference: Int { 49 }        // u64
        @inlinable public static var capacity: Int { 57 }
        @inlinable public static var intermarketSweep: Int { 58 }
        @inlinable public static var minimumQuantity: Int { 59 }
        @inlinable public static var crossType: Int { 63 }
        @inlinable public static var orderState: Int { 64 }       // a1  L D
        @inlinable public static var bboWeight: Int { 65 }        // a1
    }

    /// `U` Replaced, 80 bytes: Accepted's fields up to OrderState (token = the
    /// replacement), then the previous token and the BBO weight indicator.
    public enum Replaced {
        @inlinable public static var length: Int { 80 }
        @inlinable public static var token: Int { 9 }
        @inlinable public static var side: Int { 23 }
        @inlinable public static var shares: Int { 24 }
        @inlinable public static var stock: Int { 28 }
        @inlinable public static var price: Int { 36 }
        @inlinable public static var timeInForce: Int { 40 }
        @inlinable public static var firm: Int { 44 }
        @inlinable public static var display: Int { 48 }
        @inlinable public static var reference: Int { 49 }
        @inlinable public static var capacity: Int { 57 }
        @inlinable public static var intermarketSweep: Int { 58 }
        @inlinable public static var minimumQuantity: Int { 59 }
        @inlinable public static var crossType: Int { 63 }
        @inlinable public static var orderState: Int { 64 }
        @inlinable public static var previousToken: Int { 65 }    // a14
        @inlinable public static var bboWeight: Int { 79 }
    }

    /// `C` Canceled, 28 bytes.
    public enum Canceled {
        @inlinable public static var length: Int { 28 }
        @inlinable public static var token: Int { 9 }
        @inlinable public static var decrement: Int { 23 }        // u32
        @inlinable public static var reason: Int { 27 }           // a1
    }

    /// `E` Executed, 40 bytes.
    public enum Executed {
        @inlinable public static var length: Int { 40 }
        @inlinable public static var token: Int { 9 }
        @inlinable public static var shares: Int { 23 }           // u32
        @inlinable public static var price: Int { 27 }            // u32
        @inlinable public static var liquidity: Int { 31 }        // a1
        @inlinable public static var matchNumber: Int { 32 }      // u64
    }

    /// `B` Broken Trade, 32 bytes.
    public enum BrokenTrade {
        @inlinable public static var length: Int { 32 }
        @inlinable public static var token: Int { 9 }
        @inlinable public static var matchNumber: Int { 23 }      // u64
        @inlinable public static var reason: Int { 31 }           // a1
    }

    /// `J` Rejected, 24 bytes.
    public enum Rejected {
        @inlinable public static var length: Int { 24 }
        @inlinable public static var token: Int { 9 }
        @inlinable public static var reason: Int { 23 }           // a1
    }

    /// `P` Cancel Pending and `I` Cancel Reject, 23 bytes each.
    public enum TokenOnly {
        @inlinable public static var length: Int { 23 }
        @inlinable public static var token: Int { 9 }
    }

    /// `M` Order Modified, 28 bytes.
    public enum OrderModified {
        @inlinable public static var length: Int { 28 }
        @inlinable public static var token: Int { 9 }
        @inlinable public static var side: Int { 23 }             // a1
        @inlinable public static var shares: Int { 24 }           // u32
    }
}
